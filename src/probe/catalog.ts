/**
 * Built-in probe targets: for each registry a versioned, immutable file of at least 1 MB,
 * so the probe exercises full-size segments and the TLS handshake the real client does.
 * Sizes are approximate (the probe stops at --max-bytes anyway).
 */
export interface CatalogEntry {
  /** Human name used in reports. */
  name: string;
  url: string;
  /** What depends on this host in a CI job. */
  usedBy: string;
}

export const CATALOG = {
  npm: {
    name: 'npm registry',
    url: 'https://registry.npmjs.org/typescript/-/typescript-5.9.3.tgz', // 4.4 MB
    usedBy: 'npm install, yarn, pnpm',
  },
  rubygems: {
    name: 'RubyGems',
    url: 'https://rubygems.org/downloads/nokogiri-1.16.0.gem', // ~4 MB, vendored libxml2
    usedBy: 'bundle install, gem install',
  },
  pecl: {
    name: 'PECL',
    url: 'https://pecl.php.net/get/grpc-1.60.0.tgz', // ~6 MB
    usedBy: 'pecl install',
  },
  pypi: {
    name: 'PyPI',
    url: 'https://files.pythonhosted.org/packages/source/n/numpy/numpy-1.26.4.tar.gz', // ~15 MB, redirects to the hashed path
    usedBy: 'pip install, poetry, uv',
  },
  maven: {
    name: 'Maven Central',
    url: 'https://repo1.maven.org/maven2/org/scala-lang/scala-library/2.13.12/scala-library-2.13.12.jar', // ~5.9 MB
    usedBy: 'mvn, gradle, sbt',
  },
  debian: {
    name: 'Debian mirror',
    url: 'https://deb.debian.org/debian/dists/bookworm/main/installer-amd64/current/images/netboot/netboot.tar.gz', // ~40 MB
    usedBy: 'apt-get in Debian/Ubuntu-based images',
  },
  alpine: {
    name: 'Alpine mirror',
    url: 'https://dl-cdn.alpinelinux.org/alpine/v3.19/releases/x86_64/alpine-minirootfs-3.19.1-x86_64.tar.gz', // ~3.3 MB
    usedBy: 'apk add in Alpine-based images',
  },
  github: {
    name: 'GitHub release downloads',
    url: 'https://github.com/cli/cli/releases/download/v2.40.0/gh_2.40.0_linux_amd64.tar.gz', // ~11 MB, redirects to the release CDN
    usedBy: 'curl of release binaries, setup-* actions',
  },
} as const satisfies Record<string, CatalogEntry>;

export type RegistryId = keyof typeof CATALOG;

export interface Target {
  /** Catalog id, or 'url' for a --url target. */
  id: string;
  name: string;
  url: string;
}

export function resolveTargets(registries: readonly RegistryId[], urls: readonly string[]): Target[] {
  return [
    ...registries.map((id) => ({ id, name: CATALOG[id].name, url: CATALOG[id].url })),
    ...urls.map((url) => ({ id: 'url', name: new URL(url).host, url })),
  ];
}
