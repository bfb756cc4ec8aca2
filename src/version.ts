declare const __AI_INTEGRATION_VERSION__: string | undefined;

/** This package's version, written in by the build (tsup `define`). */
export const runtimeVersion: string = typeof __AI_INTEGRATION_VERSION__ === 'string' ? __AI_INTEGRATION_VERSION__ : '0.0.0-source';
