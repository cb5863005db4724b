/** Secrets never reach output: credentials in URLs are masked wherever a URL is shown. */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    if (u.username || u.password) {
      u.username = u.username ? '***' : '';
      u.password = u.password ? '***' : '';
    }
    return u.toString();
  } catch {
    return raw.replace(/\/\/[^/@\s]*@/, '//***@');
  }
}

/** The secret parts of a URL (user, password), for core.setSecret in the Action. */
export function urlSecrets(raw: string | undefined): string[] {
  if (!raw) return [];
  try {
    const u = new URL(raw);
    return [u.username, u.password, decodeURIComponent(u.password)].filter((s) => s.length > 0);
  } catch {
    return [];
  }
}

/**
 * Mask the user-info of every URL in free text (`http://bot:s3cret@proxy:3128` → `http://***:***@proxy:3128`).
 * Renderers pass their whole output through this: a proxy URL can reach a report by paths no collector
 * foresaw (an error message, a redirect, a note), and the report may be printed where setSecret does not reach.
 * The user-info runs to the last '@' before the path, so a raw '@' inside a password is masked too; it stops at
 * whitespace, '"', '<', '>' and backticks, which never occur in a URL and do delimit one in text.
 * Already-masked user-info (also as markdown-escaped `\*\*\*`) is left as it is, so masking twice changes nothing.
 */
export function maskSecrets(text: string): string {
  return text.replace(
    /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#"<>`]*)@/gi,
    (match: string, scheme: string, userinfo: string) =>
      /^[*\\:]*$/.test(userinfo) ? match : `${scheme}${userinfo.includes(':') ? '***:***' : '***'}@`,
  );
}
