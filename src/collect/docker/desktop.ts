/**
 * Whether the engine runs in a desktop product's Linux VM, and which: the fix is then that product's setting, not
 * /etc/docker/daemon.json on this machine. Pure: read from GET /info and the endpoint the API was reached at.
 *
 * - Docker Desktop: GET /info OperatingSystem "Docker Desktop" and Name "docker-desktop" (as `docker info` shows them in
 *   docker/compose#9369, kernel 5.10.104-linuxkit); its CLI context is `desktop-linux` (docker/docs
 *   content/manuals/desktop/settings-and-maintenance/settings.md: "the context is switched to desktop-linux").
 * - colima: the VM's hostname is the profile's ID, `colima` or `colima-<profile>` (abiosoft/colima cmd/start.go
 *   `conf.Hostname = config.CurrentProfile().ID`, config/profile.go ProfileFromName), and its socket is
 *   ~/.colima/<profile>/docker.sock (environment/container/docker/context.go HostSocketFile).
 * - podman machine: the API socket is `<machine>-api.sock` (containers/podman pkg/machine/vmconfigs/sockets*.go), the
 *   default machine `podman-machine-default` (pkg/machine/define/config.go); on Windows a named pipe of that name.
 */
import type { DesktopEngine } from '../../model/layers.js';

/** The parts of GET /info that say which product runs the engine. */
interface InfoIdentity {
  Name?: unknown;
  OperatingSystem?: unknown;
}

export function detectDesktop(info: unknown, ep?: { host: string; source: string }): DesktopEngine | undefined {
  const endpoint = { host: ep?.host ?? '', source: ep?.source ?? '' };
  const i = (info ?? {}) as InfoIdentity;
  const name = typeof i.Name === 'string' ? i.Name : undefined;
  const os = typeof i.OperatingSystem === 'string' ? i.OperatingSystem : undefined;
  // Before Docker Desktop's name, its stable releases said "Docker for Mac" (banzaicloud/banzai-cli#59).
  const desktopOs = os !== undefined && /^Docker (Desktop|for Mac|for Windows)$/.test(os);
  if (desktopOs || name === 'docker-desktop')
    return {
      product: 'docker-desktop',
      evidence: `GET /info: ${desktopOs ? `OperatingSystem "${os}"` : 'Name "docker-desktop"'}`,
    };
  if (
    /desktop-linux/.test(endpoint.source) ||
    /\/\.docker\/run\/docker\.sock$|dockerDesktopLinuxEngine/i.test(endpoint.host)
  )
    return { product: 'docker-desktop', evidence: `endpoint ${endpoint.host} (${endpoint.source})` };
  const colimaName = name !== undefined ? /^colima(?:-(.+))?$/.exec(name) : null;
  if (colimaName)
    return { product: 'colima', profile: colimaName[1] ?? 'default', evidence: `GET /info: Name "${name}"` };
  const colimaSock = /\/\.colima\/([^/]+)\/docker\.sock$/.exec(endpoint.host);
  if (colimaSock) return { product: 'colima', profile: colimaSock[1]!, evidence: `endpoint ${endpoint.host}` };
  const machine =
    /(podman-machine-[\w.-]+?)(?:-api)?\.sock$/.exec(endpoint.host) ??
    /pipe[\\/](podman-[\w.-]+)$/i.exec(endpoint.host);
  if (machine) return { product: 'podman-machine', profile: machine[1]!, evidence: `endpoint ${endpoint.host}` };
  return undefined;
}

/** What the daemon layer says about the VM: what is seen of it and what is not. */
export function desktopNote(d: DesktopEngine): string {
  const what = {
    'docker-desktop': 'Docker Desktop',
    colima: `colima (profile ${d.profile ?? 'default'})`,
    'podman-machine': `podman machine ${d.profile ?? ''}`.trim(),
  }[d.product];
  return `the engine runs in ${what}'s Linux VM (${d.evidence}): the VM's own interfaces are not visible from the host; the probe containers measure its networks and its way out`;
}
