/**
 * A FileDescriptorSet for the test service `test.Echo` (harness/grpc-service.ts),
 * built with @bufbuild/protobuf as `buf build -o` would write it: one message
 * `test.Msg { string text = 1; int64 n = 2; }` in and out of every method.
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

const TYPE_STRING = 9;
const TYPE_INT64 = 3;
const LABEL_OPTIONAL = 1;

/** The descriptor set's bytes. */
export function echoDescriptorSet(): Uint8Array {
  const methods = ["Unary", "ServerStream", "ClientStream", "Bidi", "Fail"].map((name) => ({
    name,
    inputType: ".test.Msg",
    outputType: ".test.Msg",
  }));
  return toBinary(
    FileDescriptorSetSchema,
    create(FileDescriptorSetSchema, {
      file: [{
        name: "test/echo.proto",
        package: "test",
        syntax: "proto3",
        messageType: [{
          name: "Msg",
          field: [
            { name: "text", number: 1, type: TYPE_STRING, label: LABEL_OPTIONAL, jsonName: "text" },
            { name: "n", number: 2, type: TYPE_INT64, label: LABEL_OPTIONAL, jsonName: "n" },
          ],
        }],
        service: [{ name: "Echo", method: methods }],
      }],
    }),
  );
}

/** `test.Msg { text }` encoded: field 1, length-delimited. */
export function msg(text: string): Uint8Array {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length > 127) throw new Error("msg(): keep test texts under 128 bytes");
  return new Uint8Array([0x0a, bytes.length, ...bytes]);
}
