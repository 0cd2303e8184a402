/** The sorted `path`s of a 400 answer's issues: the fields a request was refused for. */
export function issuePaths(res: { json(): unknown }): string[] {
  return (res.json() as { issues: { path: string }[] }).issues.map((i) => i.path).sort();
}
