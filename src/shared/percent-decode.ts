/**
 * Percent-decoding that never gives up on a whole value: gRPC percent-encodes
 * `grpc-message` as UTF-8, and one malformed escape (`100%` in the text, a
 * lone `%C3`) must not leave the rest of the message encoded, where a
 * redaction pattern would not see `ada%40example.com` as an address.
 */

/** Each run of `%XX` escapes decoded as UTF-8; a run that does not decode stays as it was. */
export function percentDecoded(text: string): string {
  if (!text.includes("%")) return text;
  return text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}

/** Percent-encodes what gRPC requires in `grpc-message`: `%` and every character outside printable ASCII. */
export function grpcPercentEncoded(text: string): string {
  return text.replace(/[^\x20-\x24\x26-\x7e]/gu, (c) => encodeURIComponent(c));
}
