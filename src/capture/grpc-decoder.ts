/**
 * Turns gRPC message bytes into proto3 JSON when the method is known from a
 * FileDescriptorSet (`buf build -o FILE`, `protoc --descriptor_set_out=FILE
 * --include_imports`), with @bufbuild/protobuf. Unknown methods and bytes
 * that do not decode give undefined, never an error: the record keeps its
 * base64 payload either way.
 */
import { createFileRegistry, type DescMessage, fromBinary, type JsonValue, toJson } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import type { FrameDirection } from "../shared/record.ts";
import { grpcMethodOf } from "./grpc-call.ts";

/** Decodes the messages of the methods its descriptors describe. */
export interface GrpcDecoder {
  /** Methods known, for the start-up log. */
  readonly methods: number;
  /** The message as proto3 JSON, or undefined when the method is unknown or the bytes do not decode. */
  decode(path: string, direction: FrameDirection, payload: Uint8Array): JsonValue | undefined;
}

/**
 * A decoder for the methods of these FileDescriptorSets (files' bytes); throws
 * naming the file when one is not a FileDescriptorSet or misses an import.
 *
 * @example
 * const decoder = grpcDecoder([{ name: "api.binpb", bytes: await Deno.readFile("api.binpb") }]);
 * decoder.decode("/helloworld.Greeter/SayHello", "client_to_server", payload); // { name: "tap" }
 */
export function grpcDecoder(files: ReadonlyArray<{ name: string; bytes: Uint8Array }>): GrpcDecoder {
  const methods = new Map<string, { input: DescMessage; output: DescMessage }>();
  for (const file of files) {
    let registry;
    try {
      registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, file.bytes));
    } catch (error) {
      throw new Error(
        `"${file.name}" is not a FileDescriptorSet with all its imports (${(error as Error).message}); ` +
          "write one with `buf build -o FILE` or `protoc --include_imports --descriptor_set_out=FILE`",
      );
    }
    for (const service of registry) {
      if (service.kind !== "service") continue;
      for (const method of service.methods) {
        methods.set(`${service.typeName}/${method.name}`, { input: method.input, output: method.output });
      }
    }
  }
  return {
    methods: methods.size,
    decode(path, direction, payload) {
      const called = grpcMethodOf(path);
      const method = called ? methods.get(`${called.service}/${called.method}`) : undefined;
      if (method === undefined) return undefined;
      const desc = direction === "client_to_server" ? method.input : method.output;
      try {
        return toJson(desc, fromBinary(desc, payload));
      } catch {
        return undefined;
      }
    },
  };
}
