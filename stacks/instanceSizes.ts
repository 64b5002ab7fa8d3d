/**
 * vCPUs and memory of common EC2 instance types, so a delivery-platform host too small for its
 * tool fails at preview instead of on the VM. Types not listed are checked on the host only.
 */

const SIZES: Record<string, [cpus: number, memoryGiB: number]> = {
  nano: [2, 0.5],
  micro: [2, 1],
  small: [2, 2],
  medium: [2, 4],
  large: [2, 8],
  xlarge: [4, 16],
  "2xlarge": [8, 32],
  "4xlarge": [16, 64],
};

/** Memory per vCPU relative to the general-purpose families (c: half, r: double). */
const FAMILIES: Record<string, number> = {
  t3: 1,
  t3a: 1,
  m5: 1,
  m6i: 1,
  m6a: 1,
  m7i: 1,
  m7a: 1,
  c5: 0.5,
  c6i: 0.5,
  c7i: 0.5,
  r5: 2,
  r6i: 2,
  r7i: 2,
};

/** `{ cpus, memoryGiB }` of a known EC2 instance type, undefined otherwise. */
export function awsInstanceSize(instanceType: string): { cpus: number; memoryGiB: number } | undefined {
  const [family, size] = instanceType.split(".");
  const factor = FAMILIES[family];
  const base = SIZES[size];
  if (factor === undefined || base === undefined) return undefined;
  // t3 below large keeps its burstable sizes; m/c/r start at large.
  if (!family.startsWith("t") && ["nano", "micro", "small", "medium"].includes(size)) return undefined;
  const memory = family.startsWith("t") ? base[1] : base[1] * factor;
  return { cpus: base[0], memoryGiB: memory };
}
