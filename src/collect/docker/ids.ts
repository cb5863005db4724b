/** Layer ids of the Docker collector: stable across runs (the JSON report's layer ids are part of its contract). */
export const DAEMON_LAYER_ID = 'docker';

const slug = (s: string) => s.replace(/[^A-Za-z0-9_.-]+/g, '-');
export const networkLayerId = (name: string) => `docker-net-${slug(name)}`;
/** The probe container on a network other than the default bridge. */
export const containerLayerId = (network: string) => `docker-container-net-${slug(network)}`;
