// A second, tiny entry (see index.html): starts the first API requests of the page being opened
// while the main bundle downloads and evaluates, instead of after. getJson picks them up.
import { startEarly } from "./api/client";
import { earlyRequests } from "./api/early";

startEarly(earlyRequests(location.pathname, location.search, location.hash));
