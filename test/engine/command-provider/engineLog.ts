/**
 * Sends a command's output to the engine's log service under the resource's URN, where the real
 * command provider sends it (the engine shows it in its output under the resource). The engine's
 * address is the plugin's first argument.
 */
import * as grpc from "@grpc/grpc-js";
import { EngineClient } from "@pulumi/pulumi/proto/engine_grpc_pb";
import { LogRequest, LogSeverity } from "@pulumi/pulumi/proto/engine_pb";

let client: EngineClient | undefined;

/** Connects the logger to the engine named in the plugin's arguments (no-op without one). */
export function connectEngineLog(args: string[]): void {
  // The engine passes flags (--logtostderr, -v=N, --tracing ADDR) before its own address.
  const address = args.filter((a, i) => !a.startsWith("-") && args[i - 1] !== "--tracing")[0];
  if (address) client = new EngineClient(address, grpc.credentials.createInsecure());
}

/** Logs `message` at info severity for `urn`; resolves once the engine has it (or without an engine). */
export function engineLog(urn: string, message: string): Promise<void> {
  const engine = client;
  if (!engine || !message) return Promise.resolve();
  const request = new LogRequest();
  request.setSeverity(LogSeverity.INFO);
  request.setUrn(urn);
  request.setMessage(message);
  request.setEphemeral(false);
  return new Promise((resolve) => engine.log(request, () => resolve()));
}
