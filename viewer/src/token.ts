/**
 * The admin token the user pasted, kept in sessionStorage: it lives as long
 * as the tab, is never written to a URL, a cookie or localStorage, and goes
 * out only as a bearer header.
 */
const KEY = "tapline.token";

export function loadToken(): string | undefined {
  return sessionStorage.getItem(KEY) ?? undefined;
}

export function saveToken(token: string): void {
  sessionStorage.setItem(KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(KEY);
}
