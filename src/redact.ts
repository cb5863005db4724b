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
