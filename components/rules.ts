/**
 * The rules the components check their arguments with, for programs that validate values before
 * they reach a component (e.g. a stack's config schema): the same rule, the same fix. Each
 * `require*`/`validate*` throws a {@link ValidationError} naming the argument, the value and the fix;
 * each `is*` answers true or false.
 */
export {
  describeValue,
  isDnsLabel,
  isHostAddress,
  isIpv4,
  isIpv4Cidr,
  isPort,
  requireCidr,
  requireDnsLabel,
  requirePort,
} from "./validation";
export { awsZoneRegion, isAwsRegion, requireAwsInstanceType, requireAwsRegion } from "./hosts/aws/validation";
export {
  alicloudZoneRegion,
  isAlicloudRegion,
  requireAlicloudInstanceType,
  requireAlicloudRegion,
} from "./hosts/alicloud/validation";
export { requirePublicKey } from "./hosts/cloudArgs";
export { requireHostKey } from "./hosts/hostChecks";
export { requireHostKeyFingerprint } from "./ssh/hostKeys";
export { requireDataPathPort } from "./hosts/firewall";
export {
  isValidManagerCount,
  MAX_MANAGERS,
  normalizeCertExpiry,
  requireNodeLabels,
  validateInsecureRegistry,
  validateRegistryMirror,
} from "./cluster/validate";
