/** Client address formatting for records and forwarding headers. */

/** The IP as clients know it: IPv4-mapped IPv6 (`::ffff:127.0.0.1`) reduced to IPv4. */
export function plainIp(ip: string): string {
  return ip.startsWith("::ffff:") && ip.includes(".") ? ip.slice(7) : ip;
}

/** `ip:port`, with IPv6 in brackets and IPv4-mapped IPv6 reduced to IPv4. */
export function formatAddress(ip: string, port: number): string {
  const plain = plainIp(ip);
  return plain.includes(":") ? `[${plain}]:${port}` : `${plain}:${port}`;
}
