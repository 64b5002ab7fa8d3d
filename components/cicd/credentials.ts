import * as pulumi from "@pulumi/pulumi";

/** A user name and a password (or token), e.g. `HarborHost.pushCredentials`. */
export interface Credentials {
  /** User name, e.g. "robot$team+jenkins". */
  username: pulumi.Input<string>;
  /** Password or token (made secret). */
  password: pulumi.Input<string>;
}

/** {@link Credentials} a component outputs: the password is a secret Output. */
export interface CredentialsOutput extends Credentials {
  /** User name. */
  username: pulumi.Output<string>;
  /** Password or token (secret). */
  password: pulumi.Output<string>;
}
