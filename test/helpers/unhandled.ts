/**
 * Routes unhandled promise rejections to `handler` until the returned function is called. The
 * Pulumi runtime rejects promises nobody awaits when a resource fails; jest would blame whichever
 * test runs then. Jest listens on the real process (the test's `process` is a sandbox copy), so the
 * real one is reached through a function of the outer realm.
 */
export function divertUnhandledRejections(handler: (reason: unknown) => void): () => void {
  const real = (setTimeout as unknown as { constructor: FunctionConstructor }).constructor(
    "return process",
  )() as NodeJS.Process;
  const saved = real.listeners("unhandledRejection");
  real.removeAllListeners("unhandledRejection");
  real.on("unhandledRejection", handler);
  return () => {
    real.off("unhandledRejection", handler);
    for (const h of saved) real.on("unhandledRejection", h);
  };
}
