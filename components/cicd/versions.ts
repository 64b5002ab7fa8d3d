/**
 * Pinned versions of the delivery platform's images. Every component takes a `version` argument
 * that overrides its pin; bump these deliberately (and read the tool's upgrade notes first: GitLab
 * and Harbor only support upgrading along documented paths).
 */

/** Images and tags used when a component is given no `version`. Checked current as of 2026-11. */
export const PINNED_VERSIONS = {
  /** `gitlab/gitlab-ce` tag. */
  gitlab: "19.4.1-ce.0",
  /** `jenkins/jenkins` tag: the LTS line on JDK 21. */
  jenkins: "2.580.2-lts-jdk21",
  /** `sonarqube` tag: the Community Build. */
  sonarqube: "26.9.0.129388-community",
  /** `postgres` tag for SonarQube's database (a major SonarQube supports). */
  postgres: "17.6",
  /** Harbor release (installer tarball name and the `goharbor/*` image tags it pulls). */
  harbor: "v2.15.2",
} as const;

/** Image repositories of the tools (the Docker Hub official names). */
export const IMAGES = {
  gitlab: "gitlab/gitlab-ce",
  jenkins: "jenkins/jenkins",
  sonarqube: "sonarqube",
  postgres: "postgres",
} as const;

/** True for a string Docker accepts as an image tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`. */
export function isImageTag(value: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(value);
}

/** True for a Harbor release name such as "v2.15.2". */
export function isHarborVersion(value: string): boolean {
  return /^v\d+\.\d+\.\d+$/.test(value);
}

/** `repository:tag`. */
export function imageRef(repository: string, tag: string): string {
  return `${repository}:${tag}`;
}
