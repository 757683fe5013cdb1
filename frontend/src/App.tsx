import { useCallback, useState } from "react";
import { Route, Routes } from "react-router";
import { useQueryClient } from "@tanstack/react-query";
import { useCatchUpOnReconnect } from "./live/useLive";
import { TopBar } from "./shell/TopBar";
import { HelpDialog } from "./shell/HelpDialog";
import { useGlobalShortcuts } from "./shell/shortcuts";
import { useTheme } from "./shell/theme";
import { RunsPage } from "./runs/RunsPage";
import { RunPage } from "./run/RunPage";
import { TaskPage } from "./task/TaskPage";
import { PluginsPage } from "./plugins/PluginsPage";
import { PluginToasts } from "./plugins/toasts";
import { ComparePage } from "./compare/ComparePage";
import { RunWatcher } from "./watch/RunWatcher";

export function App() {
  const [theme, , setTheme] = useTheme();
  const [help, setHelp] = useState(false);
  const openHelp = useCallback(() => setHelp(true), []);
  useGlobalShortcuts(openHelp);
  const client = useQueryClient();
  useCatchUpOnReconnect(useCallback(() => void client.invalidateQueries({ type: "active" }), [client]));
  return (
    <div className="app">
      <TopBar theme={theme} setTheme={setTheme} openHelp={openHelp} />
      <main className="main">
        <Routes>
          <Route path="/" element={<RunsPage />} />
          <Route path="/-/plugins" element={<PluginsPage />} />
          <Route path="/-/compare" element={<ComparePage />} />
          <Route path="/:flow" element={<RunsPage />} />
          <Route path="/:flow/:run" element={<RunPage />} />
          <Route path="/:flow/:run/:step" element={<RunPage />} />
          <Route path="/:flow/:run/:step/:task" element={<TaskPage />} />
        </Routes>
      </main>
      <HelpDialog open={help} onClose={() => setHelp(false)} />
      <PluginToasts />
      <RunWatcher />
    </div>
  );
}
