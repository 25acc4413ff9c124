import { headerValue, type RawHeaders } from "../shared/raw-headers.ts";
import { percentDecoded } from "../shared/percent-decode.ts";
import type { GrpcCall } from "../shared/record.ts";

/** Whether a request is a gRPC call: `content-type: application/grpc`, `application/grpc+proto`, `...;charset`. */
export function isGrpc(headers: RawHeaders): boolean {
  const type = headerValue(headers, "content-type");
  return type !== undefined && /^\s*application\/grpc(?:[+;\s]|$)/i.test(type);
}

/** `/package.Service/Method`: the two parts gRPC routes on. */
const GRPC_PATH = /^\/([^/?#]+)\/([^/?#]+)(?:[?#]|$)/;

/** The service and method of a gRPC path `/package.Service/Method`, or undefined for another shape. */
export function grpcMethodOf(url: string): { service: string; method: string } | undefined {
  const path = GRPC_PATH.exec(url);
  return path ? { service: path[1]!, method: path[2]! } : undefined;
}

/**
 * What an `http` record says about a gRPC call: the method from the path and,
 * once it ended, `grpc-status` and `grpc-message` from the trailers (or from
 * the head of a trailers-only response).
 *
 * @example
 * grpcCall("/test.Echo/Fail", [], ["grpc-status", "5", "grpc-message", "not%20found"]);
 * // { service: "test.Echo", method: "Fail", status: 5, message: "not found" }
 */
export function grpcCall(url: string, responseHeaders: RawHeaders, trailers: RawHeaders): GrpcCall {
  const call: GrpcCall = grpcMethodOf(url) ?? { service: "", method: "" };
  const fields = trailers.length > 0 && headerValue(trailers, "grpc-status") !== undefined ? trailers : responseHeaders;
  const status = headerValue(fields, "grpc-status")?.trim();
  if (status !== undefined && /^\d{1,9}$/.test(status)) call.status = Number(status);
  const message = headerValue(fields, "grpc-message");
  if (message !== undefined) call.message = percentDecoded(message);
  return call;
}
