/**
 * Entry point of the lab stand-in plugin `pulumi-resource-command` (see provider.ts for what it is
 * and why it exists): serves the gRPC ResourceProvider protocol and prints its port to the engine.
 */
import { main } from "@pulumi/pulumi/provider";
import { connectEngineLog } from "./engineLog";
import { commandProvider } from "./provider";

connectEngineLog(process.argv.slice(2));
void main(commandProvider, process.argv.slice(2));
