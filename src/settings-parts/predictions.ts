/** The environment variables of this area, with what each sets; the README's environment table lists them. */
export const predictionsVariables = {} as const;
