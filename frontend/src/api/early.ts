// Which API requests a deep link will make first, so src/early.ts can start them before the app
// has loaded. Pure and unit-tested: the URLs must be exactly the app's, or the app asks again.
import { apiUrl } from "./client";
import { logPageUrl, runPageUrl, taskPath } from "./paths";
import { parseLocation } from "../nav/viewState";
import { PAGE, pageQuery } from "../logs/logWindow";

export function earlyRequests(pathname: string, search: string, hash: string): string[] {
  if (pathname.startsWith("/-/")) return [];
  const view = parseLocation(pathname, search, hash);
  const { flow, run, step, task } = view.path;
  if (!flow || !run) return [];
  if (!step || !task) return [runPageUrl(flow, run)];   // as useRun asks on the run page (DAG not cached yet)
  const ref = { flow, run, step, task };
  const urls = [apiUrl(taskPath(ref))];
  const k = view.task;
  if (k.panel === "logs") {
    // As useLogLines opens a log: its tail, and a permalink's page at the same time.
    urls.push(logPageUrl(ref, k.stream, k.attempt, { tail: PAGE }));
    if (k.lines) urls.push(logPageUrl(ref, k.stream, k.attempt, pageQuery(Math.floor((Math.max(1, k.lines[0]) - 1) / PAGE))));
  }
  return urls;
}
