// The overlay composer: one form per action type, presets kept on the server, and the API's
// validation errors shown on the fields they are about.

import type { ComponentChildren } from 'preact';
import { useEffect, useId, useState } from 'preact/hooks';
import { ApiError, sentence } from '../../api/errors';
import { actions, presets as presetsApi, products, type CatalogProduct, type Preset } from '../../api/live';
import { FormError, SubmitButton, TextAreaField, TextField } from '../../components/Form';
import { toast } from '../../components/Toasts';
import { useResource } from '../../components/useResource';
import {
  ACTION_TYPES,
  LIMITS,
  actionLabel,
  composerErrors,
  describeAction,
  draftToAction,
  emptyDrafts,
  loadAction,
  type Drafts,
} from '../../domain/actions';
import type { ActionType, StreamAction } from '../../realtime/protocol';

const FIELDS = ['question', 'answers', 'correct_index', 'duration_secs', 'options', 'title', 'message', 'price', 'image_url', 'description', 'product_url'] as const;

export function Composer({ username, stageLive }: { username: string; stageLive: boolean }) {
  const [type, setType] = useState<ActionType>('quiz');
  const [drafts, setDrafts] = useState<Drafts>(emptyDrafts);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const presetList = useResource(() => presetsApi.list(), []);

  function edit<K extends ActionType>(kind: K, patch: Partial<Drafts[K]>) {
    setDrafts((d) => ({ ...d, [kind]: { ...d[kind], ...patch } }));
    // Typing answers the errors of what was typed into.
    const keys = Object.keys(patch);
    setErrors((e) => Object.fromEntries(Object.entries(e).filter(([f]) => !keys.some((k) => f === k || f.startsWith(`${k}.`)))));
  }

  function switchType(next: ActionType) {
    setType(next);
    setErrors({});
    setFormError(null);
  }

  /** The current draft as an action, or null after showing why not. */
  function current(): StreamAction | null {
    const built = draftToAction(type, drafts);
    if ('errors' in built) {
      setErrors(built.errors);
      return null;
    }
    return built.action;
  }

  /** Shows an API error on the fields it names; `extra` maps more field names (the preset's `name`). */
  function showError(error: unknown, extra: string[] = []): Record<string, string> {
    if (error instanceof ApiError) {
      const split = composerErrors(error.fields, [...FIELDS, ...extra]);
      setErrors(split.fields);
      const rest = split.rest.map(sentence);
      setFormError(rest.length ? rest.join(' ') : Object.keys(split.fields).length ? null : error.message);
      return split.fields;
    }
    setFormError('Something went wrong. Try again.');
    return {};
  }

  async function start(e: Event) {
    e.preventDefault();
    if (busy) return;
    setFormError(null);
    const action = current();
    if (!action) return;
    setBusy(true);
    try {
      await actions.start(username, action);
      setErrors({});
      toast(`${actionLabel(type)} is on stream`);
    } catch (error) {
      showError(error);
    } finally {
      setBusy(false);
    }
  }

  const hint = ACTION_TYPES.find((t) => t.type === type)!.hint;
  const blocked = stageLive && type !== 'poll';

  return (
    <section class="panel" id="composer" aria-labelledby="composer-title" data-testid="composer">
      <h2 id="composer-title" class="panel__title">
        Overlays
      </h2>
      <fieldset class="segmented" data-testid="composer-types">
        <legend class="visually-hidden">Overlay type</legend>
        {ACTION_TYPES.map((t) => (
          <label key={t.type} class="segmented__option">
            <input type="radio" name="overlay-type" value={t.type} checked={type === t.type} onChange={() => switchType(t.type)} data-testid={`type-${t.type}`} />
            <span>{t.label}</span>
          </label>
        ))}
      </fieldset>
      <p class="panel__intro panel__intro--flush">{hint}</p>

      <Presets
        type={type}
        list={presetList.data?.presets ?? []}
        reload={presetList.reload}
        onLoad={(preset) => {
          setDrafts((d) => loadAction(d, preset.action));
          switchType(preset.action.type);
          toast(`Loaded “${preset.name}”`, 'info');
        }}
        current={current}
        showError={showError}
      />

      <form class="form composer__form" onSubmit={start} noValidate data-testid={`composer-${type}`}>
        {type === 'quiz' && <QuizFields draft={drafts.quiz} errors={errors} edit={(p) => edit('quiz', p)} />}
        {type === 'poll' && <PollFields draft={drafts.poll} errors={errors} edit={(p) => edit('poll', p)} />}
        {type === 'notice' && (
          <>
            <TextField label="Title" name="title" value={drafts.notice.title} onValue={(v) => edit('notice', { title: v })} error={errors.title} maxLength={LIMITS.notice.title} />
            <TextAreaField label="Message" name="message" value={drafts.notice.message} onValue={(v) => edit('notice', { message: v })} error={errors.message} maxLength={LIMITS.notice.message} />
            <DurationField value={drafts.notice.duration_secs} onValue={(v) => edit('notice', { duration_secs: v })} error={errors.duration_secs} range={LIMITS.notice.duration} />
          </>
        )}
        {type === 'product' && (
          <>
            <TextField label="Title" name="title" value={drafts.product.title} onValue={(v) => edit('product', { title: v })} error={errors.title} maxLength={LIMITS.product.title} />
            <TextField label="Price" name="price" value={drafts.product.price} onValue={(v) => edit('product', { price: v })} error={errors.price} maxLength={LIMITS.product.price} placeholder="$24.99" />
            <TextField label="Image URL" name="image_url" type="url" value={drafts.product.image_url} onValue={(v) => edit('product', { image_url: v })} error={errors.image_url} placeholder="https://…" hint="An https link to the picture." />
            <TextAreaField label="Description (optional)" name="description" value={drafts.product.description} onValue={(v) => edit('product', { description: v })} error={errors.description} maxLength={LIMITS.product.description} />
          </>
        )}
        {type === 'amazon_product' && <AmazonFields draft={drafts.amazon_product} errors={errors} edit={(p) => edit('amazon_product', p)} />}
        {type === 'celebration' && <p class="muted">Confetti rains over your stream for 10 seconds. There is nothing to set.</p>}
        <FormError message={formError} />
        {blocked && (
          <p class="notice notice--warning" role="status">
            Your stage is live: only polls can be shown until it ends.
          </p>
        )}
        <div class="form__row">
          <SubmitButton busy={busy} disabled={blocked} data-testid="start-action">
            Show on stream
          </SubmitButton>
        </div>
      </form>
    </section>
  );
}

function DurationField({ value, onValue, error, range }: { value: string; onValue: (v: string) => void; error?: string | undefined; range: readonly [number, number] }) {
  return (
    <TextField
      label="Duration (seconds)"
      name="duration_secs"
      value={value}
      onValue={onValue}
      error={error}
      inputMode="numeric"
      maxLength={7}
      hint={`${range[0]}–${range[1]} seconds.`}
    />
  );
}

/** An editable list of 2–5 entries (answers, options) with add and remove. */
function ListFields({
  legend,
  name,
  items,
  min,
  max,
  maxLength,
  errors,
  onChange,
  marker,
}: {
  legend: string;
  name: 'answers' | 'options';
  items: string[];
  min: number;
  max: number;
  maxLength: number;
  errors: Record<string, string>;
  onChange: (items: string[]) => void;
  marker?: (i: number) => ComponentChildren;
}) {
  const listError = errors[name];
  const errorId = useId();
  return (
    <fieldset class={`listfield${listError ? ' field--invalid' : ''}`} aria-describedby={listError ? errorId : undefined}>
      <legend class="field__label">{legend}</legend>
      {items.map((item, i) => (
        <div key={i} class="listfield__row">
          {marker?.(i)}
          <div class="listfield__input">
            <TextField
              label={`${name === 'answers' ? 'Answer' : 'Option'} ${String.fromCharCode(65 + i)}`}
              name={`${name}.${i}`}
              value={item}
              maxLength={maxLength}
              onValue={(v) => onChange(items.map((x, j) => (j === i ? v : x)))}
              error={errors[`${name}.${i}`]}
            />
          </div>
          {items.length > min && (
            <button type="button" class="icon-btn listfield__remove" aria-label={`Remove ${name === 'answers' ? 'answer' : 'option'} ${String.fromCharCode(65 + i)}`} onClick={() => onChange(items.filter((_, j) => j !== i))}>
              ×
            </button>
          )}
        </div>
      ))}
      {listError && (
        <p class="field__error" id={errorId} data-testid={`error-${name}`}>
          <span aria-hidden="true">⚠ </span>
          {listError}
        </p>
      )}
      {items.length < max && (
        <button type="button" class="btn btn--ghost listfield__add" onClick={() => onChange([...items, ''])} data-testid={`add-${name}`}>
          + Add {name === 'answers' ? 'an answer' : 'an option'}
        </button>
      )}
    </fieldset>
  );
}

function QuizFields({ draft, errors, edit }: { draft: Drafts['quiz']; errors: Record<string, string>; edit: (p: Partial<Drafts['quiz']>) => void }) {
  const L = LIMITS.quiz;
  return (
    <>
      <TextField label="Question" name="question" value={draft.question} onValue={(v) => edit({ question: v })} error={errors.question} maxLength={L.question} />
      <ListFields
        legend="Answers — mark the correct one"
        name="answers"
        items={draft.answers}
        min={L.answers[0]}
        max={L.answers[1]}
        maxLength={L.answer}
        errors={errors}
        onChange={(answers) => edit({ answers, correct_index: Math.min(draft.correct_index, answers.length - 1) })}
        marker={(i) => (
          <label class="listfield__correct" title="Correct answer">
            <input type="radio" name="correct" checked={draft.correct_index === i} onChange={() => edit({ correct_index: i })} data-testid="correct-answer" />
            <span class="visually-hidden">Answer {String.fromCharCode(65 + i)} is correct</span>
          </label>
        )}
      />
      {errors.correct_index && (
        <p class="field__error" data-testid="error-correct_index">
          ⚠ {errors.correct_index}
        </p>
      )}
      <DurationField value={draft.duration_secs} onValue={(v) => edit({ duration_secs: v })} error={errors.duration_secs} range={L.duration} />
    </>
  );
}

function PollFields({ draft, errors, edit }: { draft: Drafts['poll']; errors: Record<string, string>; edit: (p: Partial<Drafts['poll']>) => void }) {
  const L = LIMITS.poll;
  return (
    <>
      <TextField label="Question" name="question" value={draft.question} onValue={(v) => edit({ question: v })} error={errors.question} maxLength={L.question} />
      <ListFields legend="Options" name="options" items={draft.options} min={L.options[0]} max={L.options[1]} maxLength={L.option} errors={errors} onChange={(options) => edit({ options })} />
      <DurationField value={draft.duration_secs} onValue={(v) => edit({ duration_secs: v })} error={errors.duration_secs} range={L.duration} />
    </>
  );
}

function AmazonFields({ draft, errors, edit }: { draft: Drafts['amazon_product']; errors: Record<string, string>; edit: (p: Partial<Drafts['amazon_product']>) => void }) {
  const [keywords, setKeywords] = useState('');
  const [results, setResults] = useState<CatalogProduct[] | null>(null);
  const [searchError, setSearchError] = useState<string | null>(null);
  const [searching, setSearching] = useState(false);

  async function search() {
    if (!keywords.trim() || searching) return;
    setSearching(true);
    setSearchError(null);
    try {
      setResults((await products.search(keywords.trim())).products);
    } catch (e) {
      setResults(null);
      setSearchError(
        e instanceof ApiError && e.code === 'catalog_disabled'
          ? 'Product search is not set up on this server (it needs Amazon Product Advertising API credentials). You can still fill in a product below.'
          : e instanceof ApiError
            ? e.message
            : 'The search failed. Try again.',
      );
    } finally {
      setSearching(false);
    }
  }

  return (
    <>
      <div class="field">
        <label class="field__label" for="product-search">
          Search Amazon
        </label>
        <div class="field__row">
          <input
            id="product-search"
            class="input"
            type="search"
            value={keywords}
            maxLength={150}
            onInput={(e) => setKeywords(e.currentTarget.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                void search();
              }
            }}
            data-testid="product-search"
          />
          <button type="button" class="input-addon" onClick={search} disabled={searching} data-testid="product-search-button">
            {searching ? 'Searching…' : 'Search'}
          </button>
        </div>
        {searchError && (
          <p class="field__hint" role="status" data-testid="product-search-error">
            {searchError}
          </p>
        )}
      </div>
      {results && (
        <ul class="product-results" aria-label="Search results" data-testid="product-results">
          {results.length === 0 && <li class="muted">Nothing found.</li>}
          {results.map((p) => (
            <li key={p.asin} class="product-results__item">
              {p.image_url ? <img src={p.image_url} alt="" class="product-results__image" referrerpolicy="no-referrer" /> : <span class="product-results__image" aria-hidden="true" />}
              <span class="product-results__title">{p.title}</span>
              <span class="product-results__price">{p.price ?? 'no offer'}</span>
              <button
                type="button"
                class="btn btn--secondary"
                disabled={!p.price || !p.image_url}
                onClick={() => edit({ title: p.title.slice(0, LIMITS.amazon_product.title), price: p.price ?? '', image_url: p.image_url ?? '', product_url: p.product_url })}
              >
                Use
              </button>
            </li>
          ))}
        </ul>
      )}
      <TextField label="Title" name="title" value={draft.title} onValue={(v) => edit({ title: v })} error={errors.title} maxLength={LIMITS.amazon_product.title} />
      <TextField label="Price" name="price" value={draft.price} onValue={(v) => edit({ price: v })} error={errors.price} maxLength={LIMITS.amazon_product.price} />
      <TextField label="Image URL" name="image_url" type="url" value={draft.image_url} onValue={(v) => edit({ image_url: v })} error={errors.image_url} />
      <TextField label="Product URL" name="product_url" type="url" value={draft.product_url} onValue={(v) => edit({ product_url: v })} error={errors.product_url} />
    </>
  );
}

/** Saved overlays: load one into the form, save the form under a name, delete. */
function Presets({
  type,
  list,
  reload,
  onLoad,
  current,
  showError,
}: {
  type: ActionType;
  list: Preset[];
  reload: () => void;
  onLoad: (preset: Preset) => void;
  current: () => StreamAction | null;
  showError: (error: unknown, extra?: string[]) => Record<string, string>;
}) {
  const [selected, setSelected] = useState('');
  const [name, setName] = useState('');
  const [nameError, setNameError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const chosen = list.find((p) => p.id === selected) ?? null;

  useEffect(() => {
    if (selected && !chosen) setSelected('');
  }, [list]);

  async function save() {
    setNameError(null);
    const action = current();
    if (!action) return;
    if (!name.trim()) {
      setNameError('Give the preset a name.');
      return;
    }
    setBusy(true);
    try {
      const saved = await presetsApi.save(name.trim(), action);
      toast(`Saved preset “${saved.name}”`);
      setName('');
      setSelected(saved.id);
      reload();
    } catch (e) {
      const fields = showError(e, ['name']);
      if (fields.name) setNameError(fields.name);
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    if (!chosen) return;
    setBusy(true);
    try {
      await presetsApi.remove(chosen.id);
      toast(`Deleted preset “${chosen.name}”`);
      setSelected('');
      reload();
    } catch (e) {
      toast(e instanceof ApiError ? e.message : 'Could not delete the preset.', 'error');
    } finally {
      setBusy(false);
    }
  }

  return (
    <div class="presets" data-testid="presets">
      <div class="presets__row">
        <label class="field__label" for="preset-select">
          Presets
        </label>
        <select id="preset-select" class="input presets__select" value={selected} onChange={(e) => setSelected(e.currentTarget.value)} data-testid="preset-select">
          <option value="">{list.length ? 'Choose a saved overlay…' : 'No presets yet'}</option>
          {list.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name} — {actionLabel(p.action.type)}: {describeAction(p.action)}
            </option>
          ))}
        </select>
        <button type="button" class="btn btn--secondary" disabled={!chosen || busy} onClick={() => chosen && onLoad(chosen)} data-testid="preset-load">
          Load
        </button>
        <button type="button" class="btn btn--ghost" disabled={!chosen || busy} onClick={remove} data-testid="preset-delete">
          Delete
        </button>
      </div>
      {type !== 'celebration' && (
        <div class="presets__row">
          <label class="field__label" for="preset-name">
            Save this {actionLabel(type).toLowerCase()} as
          </label>
          <input
            id="preset-name"
            class="input"
            value={name}
            maxLength={40}
            placeholder="Preset name"
            onInput={(e) => {
              setName(e.currentTarget.value);
              setNameError(null);
            }}
            aria-invalid={nameError ? 'true' : undefined}
            aria-describedby={nameError ? 'preset-name-error' : undefined}
            data-testid="preset-name"
          />
          <button type="button" class="btn btn--secondary" disabled={busy} onClick={save} data-testid="preset-save">
            Save preset
          </button>
        </div>
      )}
      {nameError && (
        <p class="field__error" id="preset-name-error" data-testid="error-name">
          ⚠ {nameError}
        </p>
      )}
    </div>
  );
}
