/**
 * The MTU settings of the desktop products that run the engine in a Linux VM, and of a macOS or Windows host itself.
 * Each checked against the source or documentation of what it configures:
 *
 * - Docker Desktop: Settings → Docker Engine edits the VM's daemon.json, "located at `$HOME/.docker/daemon.json`. Edit
 *   it directly in the Docker Desktop Dashboard or in a text editor" (docker/docs
 *   content/manuals/desktop/settings-and-maintenance/settings.md, "## Docker Engine"). Its keys are dockerd's
 *   (dockerd.ts: `mtu`, and `default-network-opts` from Docker 24).
 * - colima: no MTU flag or setting of its own (abiosoft/colima at 490420d, 2026-08: no "mtu" anywhere in the tree). Its
 *   colima.yaml `docker:` section "maps directly to daemon.json" (embedded/defaults/colima.yaml), edited with
 *   `colima start --edit` (docs/FAQ.md; cmd/start.go asks to restart a running instance to apply it), per profile with
 *   `--profile` (cmd/root/root.go), in ~/.colima/<profile>/colima.yaml (config/profile.go File()).
 * - podman machine: no MTU setting for the machine (containers/podman at c6580b4: none in pkg/machine,
 *   cmd/podman/machine or the podman-machine docs). The knobs are Podman's (knobs/podman.ts: `podman network create
 *   --opt mtu=N`, containers.conf default_network, Quadlet, compose's com.docker.network.driver.mtu); on macOS and
 *   Windows the podman CLI talks to the machine's engine (podman-machine.1.md: "Podman on MacOS and Windows requires a
 *   virtual machine"), containers.conf and Quadlet files are the machine's, reached by `podman machine ssh [name]`
 *   (podman-machine-ssh.1.md).
 * - A macOS host's interface: `ifconfig IFACE mtu N` (Apple network_cmds ifconfig.tproj/ifconfig.8: "mtu n  Set the
 *   maximum transmission unit of the interface"). A Windows host's: `netsh interface ipv4 set subinterface
 *   [interface=]<string> [mtu=]<integer> ... [store=]active|persistent` (the netsh help text, as quoted in
 *   termux/termux-packages#31825; Microsoft Learn "netsh interface").
 */
import type { DesktopEngine } from '../../model/layers.js';
import type { Fix, FixStep } from '../../model/report.js';
import { hasDefaultNetworkOpts, MTU_OPTION, mssFor } from '../../model/net.js';
import { composeStep, networkCreateStep } from './compose.js';
import { daemonJsonText } from './dockerd.js';
import { mssClampStep } from './host.js';
import { fixPodmanNetworkMtu } from './podman.js';

const PRODUCT = { 'docker-desktop': 'Docker Desktop', colima: 'colima', 'podman-machine': 'podman machine' } as const;

/** The product as a finding names it: "colima (profile work)", "podman machine podman-machine-default". */
export function desktopName(d: DesktopEngine): string {
  if (d.product === 'colima') return `colima (profile ${d.profile ?? 'default'})`;
  if (d.product === 'podman-machine' && d.profile) return `podman machine ${d.profile}`;
  return PRODUCT[d.product];
}

function dockerDesktopStep(mtu: number, engine?: number): FixStep {
  return {
    title:
      'Docker Desktop: Settings → Docker Engine (the file $HOME/.docker/daemon.json): add these keys to the JSON already there, then apply and restart',
    language: 'json',
    snippet: daemonJsonText(mtu, engine),
  };
}

/** colima.yaml's `docker:` section, which colima writes into the VM's daemon.json. */
export function colimaYaml(mtu: number, engine?: number): string {
  return [
    'docker:',
    `  mtu: ${mtu}`,
    ...(hasDefaultNetworkOpts(engine)
      ? ['  default-network-opts:', '    bridge:', `      ${MTU_OPTION}: "${mtu}"`]
      : []),
  ].join('\n');
}

function colimaStep(profile: string, mtu: number, engine?: number): FixStep {
  const flag = profile === 'default' ? '' : ` --profile ${profile}`;
  return {
    title: `colima has no MTU flag: \`colima start --edit${flag}\` (~/.colima/${profile}/colima.yaml), put this in its docker: section, and let it restart`,
    language: 'yaml',
    snippet: colimaYaml(mtu, engine),
  };
}

/** The daemon.json of the product's VM: Docker Desktop's settings or colima's docker: section. */
function vmDaemonStep(d: DesktopEngine, mtu: number, engine?: number): FixStep {
  return d.product === 'colima' ? colimaStep(d.profile ?? 'default', mtu, engine) : dockerDesktopStep(mtu, engine);
}

/**
 * Podman's own knobs (knobs/podman.ts), said where each is set for a machine: the podman CLI on the host reaches the
 * machine's engine; containers.conf and Quadlet files live in the machine (`podman machine ssh [name]`,
 * podman-machine-ssh.1.md).
 */
function podmanMachineFix(
  d: DesktopEngine,
  net: { network: string; isDefault: boolean; origin?: string },
  mtu: number,
): Fix {
  const base = fixPodmanNetworkMtu(
    { name: net.network, isDefault: net.isDefault, ...(net.origin ? { origin: net.origin } : {}) },
    mtu,
  );
  const ssh = `podman machine ssh${d.profile && d.profile !== 'podman-machine-default' ? ` ${d.profile}` : ''}`;
  return {
    summary: `${desktopName(d)} has no MTU setting of its own (its networks' are Podman's): ${base.summary}`,
    steps: base.steps.map((s) =>
      /containers\.conf|Quadlet/.test(s.title)
        ? { ...s, title: `In the machine (\`${ssh}\`): ${s.title}` }
        : s.snippet.startsWith('podman ')
          ? { ...s, title: `${s.title}; from macOS or Windows the podman CLI reaches the machine's engine` }
          : s,
    ),
  };
}

/**
 * A network of an engine in a desktop product's VM above the path MTU: the product's own setting for the default
 * bridge (and, Docker 24+, default-network-opts for the others), the network's option for user networks.
 */
export function fixDesktopNetworkMtu(
  d: DesktopEngine,
  net: { network: string; isDefault: boolean; origin?: string },
  mtu: number,
  engine?: number,
): Fix {
  if (d.product === 'podman-machine') return podmanMachineFix(d, net, mtu);
  const opts = hasDefaultNetworkOpts(engine);
  const where = d.product === 'colima' ? "colima's docker: section" : 'Settings → Docker Engine';
  if (net.isDefault)
    return {
      summary: `Set the MTU of ${desktopName(d)}'s dockerd to ${mtu} in ${where}: "mtu" for the default bridge${opts ? `, plus default-network-opts ${MTU_OPTION}=${mtu} for the networks it creates` : ''} (its VM's daemon.json, not /etc/docker/daemon.json here).`,
      steps: [vmDaemonStep(d, mtu, engine), composeStep(mtu)],
    };
  return {
    summary: `${net.origin === 'compose' ? `Give the compose network ${net.network} driver_opts ${MTU_OPTION}: ${mtu}` : `Re-create network ${net.network} with ${MTU_OPTION}=${mtu}`}${opts ? `, or set default-network-opts in ${desktopName(d)}'s ${where}` : ''}.`,
    steps: [
      ...(net.origin === 'compose' ? [] : [networkCreateStep(net.network, mtu)]),
      composeStep(mtu),
      ...(opts ? [vmDaemonStep(d, mtu, engine)] : []),
    ],
  };
}

/**
 * This macOS or Windows machine's own downloads stall beyond it: neither has a per-route advertised MSS, so the
 * interface's MTU is what makes its SYNs advertise an MSS that fits (MTU - 40).
 */
export function fixHostInterfaceMtu(platform: 'darwin' | 'win32', iface: string | undefined, mtu: number): Fix {
  const name = iface ?? (platform === 'darwin' ? 'en0' : 'Wi-Fi');
  const step: FixStep =
    platform === 'darwin'
      ? {
          title: `On this Mac: lower ${name}'s MTU (until it is reconfigured, e.g. the next network change)`,
          language: 'sh',
          snippet: `sudo ifconfig ${name} mtu ${mtu}`,
        }
      : {
          title: `On this Windows machine (an administrator prompt): lower ${name}'s IPv4 MTU, kept across restarts`,
          language: 'sh',
          snippet: `netsh interface ipv4 set subinterface "${name}" mtu=${mtu} store=persistent`,
        };
  return {
    summary: `Make servers send segments that fit a ${mtu}-byte path: lower ${name}'s MTU to ${mtu} (its connections then advertise MSS ${mssFor(mtu)}), or clamp the MSS on the hop with the small MTU.`,
    steps: [step, mssClampStep('On the router or node that owns the small link (fixes every host behind it)')],
  };
}
