/**
 * The shim and its arguments. A first argument that names a script is the shim; anything else
 * (an option such as `--image`, SageMaker's `serve`, nothing at all) is an argument of the
 * default shim, because `docker run IMAGE ARGS` replaces the image's CMD (which names the shim).
 */
export function splitArguments(argv: readonly string[], defaultShim: string | undefined): { shim: string | undefined; args: string[] } {
  const [first, ...rest] = argv;
  const isScript = first !== undefined && /\.[cm]?[jt]s$/.test(first);
  // In a container (a default shim), `--help` is the model's: its options, as the mode hint says.
  if (isScript || defaultShim === undefined) return { shim: first, args: rest };
  return { shim: defaultShim, args: [...argv] };
}
