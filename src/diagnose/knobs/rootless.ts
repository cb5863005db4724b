/**
 * Rootless Docker's own MTU knob, checked against moby's contrib/dockerd-rootless.sh: DOCKERD_ROOTLESS_ROOTLESSKIT_MTU
 * is passed as `rootlesskit --mtu=$mtu` (65520 by default with slirp4netns, else 1500), the MTU of the tap the
 * daemon's namespace leaves by; Docker's rootless docs set it in the user unit's override.conf
 * (`Environment="DOCKERD_ROOTLESS_ROOTLESSKIT_MTU=<INTEGER>"`, then `systemctl --user daemon-reload` and restart).
 * A rootless dockerd reads ~/.config/docker/daemon.json, not /etc/docker/daemon.json.
 * It matters where the stack passes packets through at L3 (lxc-user-nic, pasta in its splice-less paths): slirp4netns
 * and rootlesskit's own stacks end TCP in the parent namespace, where the parent's MSS applies.
 */
import type { FixStep } from '../../model/report.js';

export function rootlessDockerSteps(mtu: number): FixStep[] {
  return [
    {
      title:
        'rootless dockerd (dockerd-rootless.sh): ~/.config/systemd/user/docker.service.d/override.conf, then systemctl --user daemon-reload && systemctl --user restart docker',
      language: 'ini',
      snippet: `[Service]\nEnvironment="DOCKERD_ROOTLESS_ROOTLESSKIT_MTU=${mtu}"`,
    },
    {
      title: "rootless dockerd: ~/.config/docker/daemon.json (its containers' bridge), then restart it",
      language: 'json',
      snippet: JSON.stringify({ mtu }, null, 2),
    },
  ];
}
