import { render } from 'preact';
import { api } from './api/client';
import { App } from './app';
import './styles.css';

// The access token is not kept across loads: trade the refresh cookie for a session first thing.
// Pages render meanwhile; requests that need the session wait for this one.
api.refresh().catch(() => undefined);

render(<App />, document.getElementById('app')!);
