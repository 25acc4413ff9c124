/** Loading `--grpc-descriptors` at start-up: every file must read and parse, or tapline does not start. */
import { type GrpcDecoder, grpcDecoder } from "../capture/grpc-decoder.ts";
import { describeError } from "../shared/describe-error.ts";
import { ConfigError } from "../shared/errors.ts";

/**
 * A decoder for the methods of `paths`; a file that cannot be read or is not
 * a FileDescriptorSet stops start-up with an error naming it (exit 78).
 */
export async function loadGrpcDescriptors(
  paths: readonly string[],
  readFile: (path: string) => Promise<Uint8Array>,
): Promise<GrpcDecoder> {
  const files: Array<{ name: string; bytes: Uint8Array }> = [];
  for (const path of paths) {
    try {
      files.push({ name: path, bytes: await readFile(path) });
    } catch (error) {
      throw new ConfigError(`Failed to read the gRPC descriptors "${path}": ${describeError(error)}`, {
        field: "grpc.descriptors",
      });
    }
  }
  try {
    return grpcDecoder(files);
  } catch (error) {
    throw new ConfigError(`Failed to load gRPC descriptors: ${(error as Error).message}`, {
      field: "grpc.descriptors",
    });
  }
}
