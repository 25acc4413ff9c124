/** The tapline web viewer: mounts the app on the page the admin port serves at `/ui/`. */
import { render } from "preact";
import { App } from "./components/App.tsx";

render(<App />, document.getElementById("app")!);
