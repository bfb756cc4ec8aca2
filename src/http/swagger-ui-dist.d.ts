// swagger-ui-dist ships no types; this is the one function the docs route uses. Importing the
// package root would load the whole Swagger UI bundle into Node, so the route imports this file.
declare module 'swagger-ui-dist/absolute-path.js' {
  /** The folder that holds swagger-ui-bundle.js and swagger-ui.css. */
  export default function getAbsoluteFSPath(): string;
}
