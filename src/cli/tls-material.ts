import type { Config } from "../config/types.ts";
import { describeError } from "../shared/describe-error.ts";
import { UnavailableError } from "../shared/errors.ts";
import type { TlsMaterial } from "../runtime/types.ts";
import { createSelfSignedCertificate } from "../tls/self-signed.ts";

/**
 * The certificate for https listeners: `--cert`/`--key` files when given,
 * else a fresh self-signed one with `--auto-cert`; undefined when no proxy
 * listens on https.
 */
export async function loadTlsMaterial(
  config: Config,
  readTextFile: (path: string) => Promise<string>,
): Promise<TlsMaterial | undefined> {
  if (!config.proxies.some((proxy) => proxy.listenHttps)) return undefined;
  if (config.cert && config.key) {
    const read = async (what: string, path: string) => {
      try {
        return await readTextFile(path);
      } catch (error) {
        throw new UnavailableError(
          `Failed to read the TLS ${what} file "${path}": ${describeError(error)}`,
          "tls_unreadable",
        );
      }
    };
    return { cert: await read("certificate", config.cert), key: await read("key", config.key) };
  }
  return await createSelfSignedCertificate();
}
