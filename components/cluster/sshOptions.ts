/*
 * The ssh options moved to components/ssh/sshOptions.ts (shared with the delivery platform's host
 * key pins). This path stays: a dynamic provider serialized into a stack's state by an earlier
 * release of the package refers to this module by path (`require("pulumi-swarm/bin/components/
 * cluster/sshOptions")`), and `pulumi refresh` / `destroy` run that stored code.
 */
export * from "../ssh/sshOptions";
