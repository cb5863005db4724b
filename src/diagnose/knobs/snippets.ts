/** How a knob's value is written into a YAML snippet, shared by the fixes and the lint's rewritten lines. */

/** A YAML flow sequence of strings, each quoted: `["--mtu=1450", "--tls=false"]`. */
export function flowList(items: readonly string[]): string {
  return `[${items.map((s) => JSON.stringify(s)).join(', ')}]`;
}

/** A scalar for a YAML snippet: quoted when plain style could change its meaning. */
export function yamlScalar(s: string): string {
  return /^[\w./:@${}-]+$/.test(s) && !/^[-?:,[\]{}#&*!|>'"%@`]/.test(s) ? s : JSON.stringify(s);
}
