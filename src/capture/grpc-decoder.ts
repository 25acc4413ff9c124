/**
 * Turns gRPC message bytes into proto3 JSON when the method is known from a
 * FileDescriptorSet (`buf build -o FILE`, `protoc --descriptor_set_out=FILE
 * --include_imports`), with @bufbuild/protobuf. Unknown methods and bytes
 * that do not decode give undefined, never an error: the record keeps its
 * base64 payload either way.
 */
import {
  createFileRegistry,
  type DescMessage,
  fromBinary,
  fromJson,
  type JsonValue,
  toBinary,
  toJson,
} from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import type { FrameDirection } from "../shared/record.ts";
import { grpcMethodOf } from "./grpc-call.ts";

/** One side of a described method: its messages to proto3 JSON and back. */
export interface GrpcCodec {
  /** The message as proto3 JSON, or undefined when the bytes do not decode. */
  decode(payload: Uint8Array): JsonValue | undefined;
  /**
   * The message bytes of proto3 JSON. Fields of `original` the descriptors
   * do not know (a newer client or server) are kept: JSON cannot carry them.
   *
   * @throws naming the field when the JSON does not fit the message type.
   */
  encode(json: unknown, original?: Uint8Array): Uint8Array;
}

/** Decodes the messages of the methods its descriptors describe. */
export interface GrpcDecoder {
  /** Methods known, for the start-up log. */
  readonly methods: number;
  /** The message as proto3 JSON, or undefined when the method is unknown or the bytes do not decode. */
  decode(path: string, direction: FrameDirection, payload: Uint8Array): JsonValue | undefined;
  /** The codec of the call at `path` in `direction`, or undefined when its method is unknown. */
  codec(path: string, direction: FrameDirection): GrpcCodec | undefined;
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
  const codec = (path: string, direction: FrameDirection): GrpcCodec | undefined => {
    const called = grpcMethodOf(path);
    const method = called ? methods.get(`${called.service}/${called.method}`) : undefined;
    if (method === undefined) return undefined;
    return messageCodec(direction === "client_to_server" ? method.input : method.output);
  };
  return {
    methods: methods.size,
    codec,
    decode: (path, direction, payload) => codec(path, direction)?.decode(payload),
  };
}

function messageCodec(desc: DescMessage): GrpcCodec {
  return {
    decode(payload) {
      try {
        return toJson(desc, fromBinary(desc, payload));
      } catch {
        return undefined;
      }
    },
    encode(json, original) {
      const message = fromJson(desc, json as JsonValue);
      if (original !== undefined) {
        try {
          const unknown = fromBinary(desc, original).$unknown;
          if (unknown !== undefined) message.$unknown = unknown;
        } catch {
          // The original did not decode: there is nothing of it to keep.
        }
      }
      return toBinary(desc, message);
    },
  };
}

/**
 * The decoder in use, swapped when the descriptors are read again (with a
 * plugin reload). Records and hooks hold the slot, so a swap reaches them all.
 */
export class GrpcDecoderSlot implements GrpcDecoder {
  #current: GrpcDecoder;

  constructor(first: GrpcDecoder) {
    this.#current = first;
  }

  get methods(): number {
    return this.#current.methods;
  }

  decode(path: string, direction: FrameDirection, payload: Uint8Array): JsonValue | undefined {
    return this.#current.decode(path, direction, payload);
  }

  codec(path: string, direction: FrameDirection): GrpcCodec | undefined {
    return this.#current.codec(path, direction);
  }

  /** Makes `next` the decoder every later record and message uses. */
  swap(next: GrpcDecoder): void {
    this.#current = next;
  }
}
