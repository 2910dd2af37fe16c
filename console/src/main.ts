import { ApiError, token } from './api';
import { clear, h } from './dom';
import { dashboardView } from './dashboard';
import { incidentView } from './incident';
import { matrixView } from './matrix';

// Sign-in by pasting a token (kept in session storage); an embedding platform passes it in the
// URL's fragment (#token=…), which never reaches a server, and the fragment is removed at once.
const main = document.getElementById('main') as HTMLElement;
const nav = document.getElementById('nav') as HTMLElement;
const signOut = document.getElementById('sign-out') as HTMLButtonElement;

function signInView(message?: string): void {
  nav.replaceChildren();
  signOut.hidden = true;
  const area = h('textarea', {
    id: 'token',
    required: true,
    autocomplete: 'off',
    spellcheck: 'false',
  });
  clear(
    main,
    h(
      'form',
      {
        class: 'signin',
        onsubmit: (e: Event) => {
          e.preventDefault();
          token.set((area as HTMLTextAreaElement).value);
          void start();
        },
      },
      h('h1', {}, 'Sign in'),
      message ? h('p', { class: 'error', role: 'alert' }, message) : null,
      h(
        'label',
        { for: 'token' },
        'Bearer token (a JWT from your identity provider or `ttpgraph token`)',
      ),
      area,
      h('p', {}, h('button', { type: 'submit' }, 'Sign in')),
    ),
  );
  (area as HTMLTextAreaElement).focus();
}

const VIEWS = [
  ['matrix', 'Matrix'],
  ['incident', 'Incident'],
  ['dashboard', 'Dashboard'],
] as const;

/** Draws the view the URL's fragment names: #matrix, #incident/<id>, #dashboard. */
async function start(): Promise<void> {
  if (!token.get()) return signInView();
  signOut.hidden = false;
  const [view, arg] = location.hash.replace(/^#/, '').split('/');
  const current = VIEWS.some(([v]) => v === view) ? view : 'matrix';
  clear(
    nav,
    ...VIEWS.map(([v, label]) =>
      h('a', { href: `#${v}`, 'aria-current': v === current ? 'page' : undefined }, label),
    ),
  );
  try {
    if (current === 'incident') await incidentView(main, arg && decodeURIComponent(arg));
    else if (current === 'dashboard') await dashboardView(main);
    else await matrixView(main);
    main.focus();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      token.clear();
      return signInView(`The token was refused: ${err.message}`);
    }
    clear(main, h('p', { class: 'error', role: 'alert' }, (err as Error).message));
  }
}

window.addEventListener('hashchange', () => void start());
signOut.addEventListener('click', () => {
  token.clear();
  signInView();
});
const passed = /(?:^#|&)token=([^&]+)/.exec(location.hash);
if (passed?.[1]) {
  token.set(decodeURIComponent(passed[1]));
  history.replaceState(null, '', location.pathname + location.search);
}
void start();
