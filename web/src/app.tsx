import { useRef } from 'preact/hooks';
import { lazy, LocationProvider, Route, Router } from 'preact-iso';
import { Header } from './components/Header';
import { Toasts } from './components/Toasts';
import { Channel } from './pages/Channel';
import { Directory } from './pages/Directory';
import { Following } from './pages/Following';
import { Login } from './pages/Login';
import { Manager } from './pages/Manager';
import { NotFound } from './pages/NotFound';
import { Register } from './pages/Register';
import { Reset } from './pages/Reset';
import { Settings } from './pages/Settings';
import { Verify } from './pages/Verify';

/** Links the client routes itself; the rest (`/api`, uploaded `/assets`, …) are left to the browser. */
const CLIENT_SCOPE = /^\/(?!api\/|assets\/|static\/|healthz|readyz|metrics)/;

// The health pages bring the chart library; they load when first opened.
const Health = lazy(() => import('./pages/Health').then((m) => m.Health));
const HealthSession = lazy(() => import('./pages/HealthSession').then((m) => m.HealthSession));

function ChannelRoute({ username }: { username: string }) {
  return <Channel username={username} />;
}

export function App() {
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);

  // After a navigation, start at the top and put focus on the new page, as a full load would.
  function onRouteChange() {
    if (first.current) {
      first.current = false;
      return;
    }
    window.scrollTo(0, 0);
    main.current?.focus({ preventScroll: true });
  }

  return (
    <LocationProvider scope={CLIENT_SCOPE}>
      <Header />
      <main id="main" ref={main} tabIndex={-1} class="main">
        <Router onRouteChange={onRouteChange}>
          <Route path="/" component={Directory} />
          <Route path="/login" component={Login} />
          <Route path="/register" component={Register} />
          <Route path="/verify" component={Verify} />
          <Route path="/reset" component={Reset} />
          <Route path="/settings" component={Settings} />
          <Route path="/following" component={Following} />
          <Route path="/manager" component={Manager} />
          <Route path="/health" component={Health} />
          <Route path="/health/:session" component={HealthSession} />
          <Route path="/:username" component={ChannelRoute} />
          <Route default component={NotFound} />
        </Router>
      </main>
      <Toasts />
    </LocationProvider>
  );
}
