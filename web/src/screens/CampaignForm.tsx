// Create or edit a campaign, with a live preview of the template for a chosen customer.
//
// The preview endpoint renders against a campaign (POST /campaigns/{id}/personalized-preview with
// override_template). Editing previews against the campaign itself. Creating has no campaign yet, so the form
// previews against the newest campaign on the same channel with override_template: that call is read-only and
// renders exactly as the new campaign will (same template-svc, same channel facts), and nothing is written until
// "Create" -- creating a draft on the first keystroke would leave a draft behind for every abandoned form, and could
// not even be done while the template is invalid (create checks it). With no campaign on the channel yet, the
// preview starts after the first save.
import { useState, type SyntheticEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import {
  ApiError,
  CHANNELS,
  type Audience,
  type Campaign,
  type Channel,
  type CreateCampaign,
  type UpdateCampaign,
} from '../api/client';
import { useCampaign, useCampaigns, useCreateCampaign, useCustomers, usePreview, useUpdateCampaign } from '../api/queries';
import { ErrorMessage } from '../components/ErrorMessage';
import { Loading } from '../components/Loading';
import { locateTemplateProblem } from '../templateError';
import { timeZones, utcToZoned, viewerTimeZone, zonedToUtc } from '../time';
import { parseIds } from '../audience';
import { PREVIEW_DEBOUNCE_MS, useDebounced } from '../debounce';

type AudienceKind = 'none' | 'ids' | 'all' | 'segment';

interface FormState {
  name: string;
  channel: Channel;
  template: string;
  scheduled: boolean;
  wallClock: string;
  timeZone: string;
  audienceKind: AudienceKind;
  ids: string;
  location: string;
  product: string;
}

function initialState(campaign: Campaign | undefined): FormState {
  const zone = viewerTimeZone();
  const audience = campaign?.audience;
  const segment = audience?.segment;
  return {
    name: campaign?.name ?? '',
    channel: campaign?.channel ?? 'sms',
    template: campaign?.base_template ?? '',
    scheduled: campaign?.scheduled_at != null,
    wallClock: campaign?.scheduled_at != null ? utcToZoned(campaign.scheduled_at, zone) : '',
    timeZone: zone,
    audienceKind: audience == null ? 'none' : audience.customer_ids ? 'ids' : segment?.all ? 'all' : 'segment',
    ids: audience?.customer_ids?.join(', ') ?? '',
    location: segment?.location ?? '',
    product: segment?.preferred_product ?? '',
  };
}

function audienceOf(form: FormState): Audience | null | 'invalid' {
  switch (form.audienceKind) {
    case 'none':
      return null;
    case 'all':
      return { segment: { all: true } };
    case 'ids': {
      const ids = parseIds(form.ids);
      return ids === null ? 'invalid' : { customer_ids: ids };
    }
    case 'segment': {
      const location = form.location.trim();
      const product = form.product.trim();
      if (location === '' && product === '') return 'invalid';
      return {
        segment: { all: false, location: location || null, preferred_product: product || null },
      };
    }
  }
}

/** A field named by a VALIDATION_ERROR message ("body.name: ..."), to show the message beside it. */
function fieldOf(error: unknown): string | null {
  if (!(error instanceof ApiError)) return null;
  if (error.code === 'INVALID_TEMPLATE') return 'template';
  if (error.code === 'SCHEDULED_AT_IN_PAST') return 'schedule';
  const match = /^body\.(\w+)/.exec(error.message);
  if (match?.[1] === undefined) return null;
  return { base_template: 'template', scheduled_at: 'schedule', audience: 'audience' }[match[1]] ?? match[1];
}

export function CampaignFormScreen() {
  const { id } = useParams();
  if (id === undefined) return <CampaignForm campaign={undefined} />;
  return <EditCampaign id={Number(id)} />;
}

function EditCampaign({ id }: { id: number }) {
  const campaign = useCampaign(id);
  if (campaign.isPending) return <Loading what="the campaign" />;
  if (campaign.isError)
    return <ErrorMessage what="the campaign" error={campaign.error} onRetry={() => void campaign.refetch()} />;
  if (campaign.data.status !== 'draft' && campaign.data.status !== 'scheduled')
    return (
      <p className="form-error" role="alert">
        This campaign is {campaign.data.status}: only drafts and scheduled campaigns can be edited.{' '}
        <Link to={`/campaigns/${id}`}>Back to the campaign</Link>
      </p>
    );
  return <CampaignForm campaign={campaign.data} />;
}

function TemplateProblemView({ template, message }: { template: string; message: string }) {
  const problem = locateTemplateProblem(template, message);
  return (
    <div className="template-problem" role="alert" id="template-error">
      <p>
        {problem.message} {problem.code !== null && <code>{problem.code}</code>}
      </p>
      {problem.start !== null && problem.end !== null && (
        <pre className="template" aria-label="The error in context">
          {template.slice(0, problem.start)}
          <mark>{template.slice(problem.start, problem.end) || ' '}</mark>
          {template.slice(problem.end)}
        </pre>
      )}
    </div>
  );
}

function CampaignForm({ campaign }: { campaign: Campaign | undefined }) {
  const navigate = useNavigate();
  const [form, setForm] = useState(() => initialState(campaign));
  const [customerId, setCustomerId] = useState<number | null>(null);
  const create = useCreateCampaign();
  const update = useUpdateCampaign(campaign?.id ?? 0);
  const save = campaign === undefined ? create : update;
  const [localError, setLocalError] = useState<{ field: string; message: string } | null>(null);

  const customers = useCustomers(undefined, 100);
  const firstCustomer = customers.data?.data[0]?.id ?? null;
  const previewCustomer = customerId ?? firstCustomer;
  const sameChannel = useCampaigns({ channel: form.channel, pageSize: 1 });
  const previewCampaign = campaign?.id ?? sameChannel.data?.data[0]?.id ?? null;
  const template = useDebounced(form.template, PREVIEW_DEBOUNCE_MS);
  const preview = usePreview(previewCampaign, previewCustomer, template);
  const previewProblem =
    preview.error instanceof ApiError && preview.error.code === 'INVALID_TEMPLATE' ? preview.error.message : null;

  function set<K extends keyof FormState>(key: K, value: FormState[K]) {
    setForm((old) => ({ ...old, [key]: value }));
  }

  function submit(event: SyntheticEvent) {
    event.preventDefault();
    setLocalError(null);
    const audience = audienceOf(form);
    if (audience === 'invalid') {
      setLocalError({ field: 'audience', message: 'Give customer ids (1, 2, 3) or at least one segment field.' });
      return;
    }
    let scheduledAt: string | null = null;
    if (form.scheduled) {
      scheduledAt = zonedToUtc(form.wallClock, form.timeZone);
      if (scheduledAt === null) {
        setLocalError({ field: 'schedule', message: 'Pick a date and a time.' });
        return;
      }
    }
    const onSuccess = (saved: Campaign) => {
      void navigate(`/campaigns/${saved.id}`);
    };
    if (campaign === undefined) {
      const body: CreateCampaign = { name: form.name, channel: form.channel, base_template: form.template };
      if (scheduledAt !== null) body.scheduled_at = scheduledAt;
      if (audience !== null) body.audience = audience;
      create.mutate(body, { onSuccess });
    } else {
      const body: UpdateCampaign = { scheduled_at: scheduledAt, audience };
      if (form.name !== campaign.name) body.name = form.name;
      if (form.template !== campaign.base_template) body.base_template = form.template;
      update.mutate(body, { onSuccess });
    }
  }

  const serverField = fieldOf(save.error);
  const errorAt = (field: string): string | null =>
    localError?.field === field ? localError.message : serverField === field ? (save.error?.message ?? null) : null;
  const templateError = errorAt('template');
  const unplacedError = save.isError && serverField === null ? save.error.message : null;
  const utcPreview = form.scheduled ? zonedToUtc(form.wallClock, form.timeZone) : null;

  return (
    <section aria-labelledby="form-title">
      <p className="crumbs">
        <Link to={campaign ? `/campaigns/${campaign.id}` : '/campaigns'}>← {campaign ? campaign.name : 'Campaigns'}</Link>
      </p>
      <h1 id="form-title">{campaign ? 'Edit campaign' : 'New campaign'}</h1>
      <form className="campaign-form" onSubmit={submit} noValidate>
        <div className="form-main">
          <div className="field">
            <label htmlFor="name">Name</label>
            <input
              id="name"
              value={form.name}
              onChange={(e) => set('name', e.target.value)}
              maxLength={200}
              required
              aria-invalid={errorAt('name') !== null}
              aria-describedby={errorAt('name') !== null ? 'name-error' : undefined}
            />
            {errorAt('name') !== null && (
              <p className="field-error" id="name-error">
                {errorAt('name')}
              </p>
            )}
          </div>
          <fieldset className="field" disabled={campaign !== undefined}>
            <legend>Channel</legend>
            <div className="choices">
              {CHANNELS.map((value) => (
                <label key={value} className="choice">
                  <input
                    type="radio"
                    name="channel"
                    value={value}
                    checked={form.channel === value}
                    onChange={() => set('channel', value)}
                  />{' '}
                  {value === 'sms' ? 'SMS' : 'WhatsApp'}
                </label>
              ))}
            </div>
            {campaign !== undefined && <p className="hint">The channel is fixed once the campaign exists.</p>}
          </fieldset>
          <div className="field">
            <label htmlFor="template">Template</label>
            <textarea
              id="template"
              rows={5}
              value={form.template}
              onChange={(e) => set('template', e.target.value)}
              maxLength={4096}
              spellCheck
              aria-invalid={templateError !== null || previewProblem !== null}
              aria-describedby="template-hint template-error"
            />
            <p className="hint" id="template-hint">
              Placeholders: {'{first_name}'}, {'{last_name}'}, {'{location}'}, {'{preferred_product}'}; a fallback
              after a bar: {'{first_name|there}'}.
            </p>
            {templateError !== null ? (
              <TemplateProblemView template={form.template} message={templateError} />
            ) : (
              previewProblem !== null &&
              template === form.template && <TemplateProblemView template={template} message={previewProblem} />
            )}
          </div>
          <fieldset className="field">
            <legend>Schedule</legend>
            <label className="choice">
              <input type="checkbox" checked={form.scheduled} onChange={(e) => set('scheduled', e.target.checked)} />{' '}
              Send at a set time (otherwise it stays a draft until you send it)
            </label>
            {form.scheduled && (
              <div className="row">
                <div className="field">
                  <label htmlFor="scheduled-at">Date and time</label>
                  <input
                    id="scheduled-at"
                    type="datetime-local"
                    value={form.wallClock}
                    onChange={(e) => set('wallClock', e.target.value)}
                  />
                </div>
                <div className="field">
                  <label htmlFor="time-zone">Time zone</label>
                  <select id="time-zone" value={form.timeZone} onChange={(e) => set('timeZone', e.target.value)}>
                    {timeZones().map((zone) => (
                      <option key={zone} value={zone}>
                        {zone}
                      </option>
                    ))}
                  </select>
                </div>
              </div>
            )}
            {utcPreview !== null && <p className="hint">That is {utcPreview.replace('T', ' ').replace('Z', ' UTC')}.</p>}
            {errorAt('schedule') !== null && <p className="field-error">{errorAt('schedule')}</p>}
          </fieldset>
          <fieldset className="field">
            <legend>Audience</legend>
            <div className="choices">
              {(
                [
                  ['none', 'Decide when sending'],
                  ['ids', 'Customer ids'],
                  ['all', 'Every customer'],
                  ['segment', 'A segment'],
                ] as const
              ).map(([kind, label]) => (
                <label key={kind} className="choice">
                  <input
                    type="radio"
                    name="audience"
                    checked={form.audienceKind === kind}
                    onChange={() => set('audienceKind', kind)}
                  />{' '}
                  {label}
                </label>
              ))}
            </div>
            {form.audienceKind === 'ids' && (
              <div className="field">
                <label htmlFor="audience-ids">Customer ids</label>
                <input
                  id="audience-ids"
                  value={form.ids}
                  onChange={(e) => set('ids', e.target.value)}
                  placeholder="1, 2, 3"
                />
              </div>
            )}
            {form.audienceKind === 'segment' && (
              <div className="row">
                <div className="field">
                  <label htmlFor="segment-location">Location</label>
                  <input id="segment-location" value={form.location} onChange={(e) => set('location', e.target.value)} />
                </div>
                <div className="field">
                  <label htmlFor="segment-product">Preferred product</label>
                  <input id="segment-product" value={form.product} onChange={(e) => set('product', e.target.value)} />
                </div>
              </div>
            )}
            {errorAt('audience') !== null && <p className="field-error">{errorAt('audience')}</p>}
          </fieldset>
          {unplacedError !== null && (
            <p className="form-error" role="alert">
              {unplacedError} {save.error instanceof ApiError && <code>{save.error.code}</code>}
            </p>
          )}
          <div className="actions">
            <Link className="button secondary" to={campaign ? `/campaigns/${campaign.id}` : '/campaigns'}>
              Cancel
            </Link>
            <button type="submit" className="button primary" disabled={save.isPending}>
              {save.isPending ? 'Saving…' : campaign ? 'Save changes' : 'Create campaign'}
            </button>
          </div>
        </div>
        <aside className="card preview" aria-labelledby="preview-title">
          <h2 id="preview-title">Preview</h2>
          <div className="field">
            <label htmlFor="preview-customer">For customer</label>
            <select
              id="preview-customer"
              value={previewCustomer ?? ''}
              onChange={(e) => setCustomerId(Number(e.target.value))}
              disabled={customers.data === undefined || customers.data.data.length === 0}
            >
              {customers.data?.data.map((customer) => (
                <option key={customer.id} value={customer.id}>
                  #{customer.id} {[customer.first_name, customer.last_name].filter(Boolean).join(' ') || customer.phone}
                </option>
              ))}
            </select>
          </div>
          <PreviewBody
            ready={previewCampaign !== null && previewCustomer !== null}
            hasTemplate={form.template.trim() !== ''}
            preview={preview}
            stale={template !== form.template}
          />
        </aside>
      </form>
    </section>
  );
}

function PreviewBody({
  ready,
  hasTemplate,
  preview,
  stale,
}: {
  ready: boolean;
  hasTemplate: boolean;
  preview: ReturnType<typeof usePreview>;
  stale: boolean;
}) {
  if (!ready) return <p className="muted">The preview starts once a campaign exists on this channel and a customer.</p>;
  if (!hasTemplate) return <p className="muted">Type a template to see it rendered.</p>;
  const invalid = preview.error instanceof ApiError && preview.error.code === 'INVALID_TEMPLATE';
  if (preview.isError && !invalid) return <p className="form-error">{preview.error.message}</p>;
  const data = preview.data;
  if (data === undefined)
    return <p className="muted">{invalid ? 'No preview until the template is fixed.' : 'Rendering…'}</p>;
  const { facts } = data;
  return (
    <div aria-busy={stale || preview.isFetching}>
      <p className="rendered" data-testid="rendered-message" aria-live="polite">
        {data.rendered_message}
      </p>
      <dl className="facts" data-testid="preview-facts">
        <div>
          <dt>Characters</dt>
          <dd data-testid="fact-characters">{facts.characters}</dd>
        </div>
        <div>
          <dt>Encoding</dt>
          <dd data-testid="fact-encoding">{facts.encoding}</dd>
        </div>
        <div>
          <dt>Segments</dt>
          <dd data-testid="fact-segments">{facts.segments}</dd>
        </div>
      </dl>
      {facts.violations.length > 0 && (
        <ul className="violations">
          {facts.violations.map((violation) => (
            <li key={violation}>{violation}</li>
          ))}
        </ul>
      )}
      {(preview.isError || stale) && <p className="hint">Showing the last valid render.</p>}
      <p className="hint">As {data.customer.first_name ?? 'this customer'} would receive it on this channel.</p>
    </div>
  );
}
