declare const __MTU_PREFLIGHT_VERSION__: string | undefined;

/** Injected by the bundler from package.json; 'dev' when running from source (tests). */
export const VERSION: string = typeof __MTU_PREFLIGHT_VERSION__ === 'string' ? __MTU_PREFLIGHT_VERSION__ : 'dev';
