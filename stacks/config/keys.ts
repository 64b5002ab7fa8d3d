/** The names of the stack config's keys: the program's namespace, the structured keys and the secret ones. */

/** The Pulumi project name: the namespace of every config key of this program. */
export const PROJECT = "pulumi-swarm";

/** The structured (plain) config keys. */
export const CONFIG_KEYS = {
  hosts: `${PROJECT}:hosts`,
  cluster: `${PROJECT}:cluster`,
  workloads: `${PROJECT}:workloads`,
  cicd: `${PROJECT}:cicd`,
} as const;

/** The secret config keys, always read with `getSecret` and set with `pulumi config set --secret`. */
export const SECRET_KEYS = {
  sshPrivateKey: `${PROJECT}:sshPrivateKey`,
  composeSecrets: `${PROJECT}:composeSecrets`,
  gitlabRootPassword: `${PROJECT}:gitlabRootPassword`,
  harborAdminPassword: `${PROJECT}:harborAdminPassword`,
  sonarqubeAdminPassword: `${PROJECT}:sonarqubeAdminPassword`,
  gitlabApiToken: `${PROJECT}:gitlabApiToken`,
} as const;

/** The delivery-platform tools the `cicd` key can declare. */
export type CicdTool = "gitlab" | "jenkins" | "sonarqube" | "harbor";
export const CICD_TOOLS: readonly CicdTool[] = ["gitlab", "jenkins", "sonarqube", "harbor"];
