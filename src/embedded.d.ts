// Files imported `with { type: "file" }` (their path, embedded by `bun build --compile`)
// or `with { type: "text" }` (their content).
declare module "*.sql" {
  const text: string;
  export default text;
}
declare module "*.css" {
  const path: string;
  export default path;
}
declare module "*.svg" {
  const path: string;
  export default path;
}
declare module "*/static/app.js" {
  const path: string;
  export default path;
}
declare module "*/static/dashboard.js" {
  const path: string;
  export default path;
}
declare module "*/htmx.min.js" {
  const path: string;
  export default path;
}
declare module "*/static/machine-groups.js" {
  const path: string;
  export default path;
}
declare module "*/static/actions.js" {
  const path: string;
  export default path;
}
declare module "*/static/shell.js" {
  const path: string;
  export default path;
}
declare module "*/xterm/lib/xterm.js" {
  const path: string;
  export default path;
}
declare module "*/addon-fit/lib/addon-fit.js" {
  const path: string;
  export default path;
}
