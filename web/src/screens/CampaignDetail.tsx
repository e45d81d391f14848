import { useCallback, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import type { SendResult } from '../api/client';
import { FINISHED, useCampaign, useCampaignControl, useCancelCampaign, useRetryFailed } from '../api/queries';
import { ErrorMessage } from '../components/ErrorMessage';
import { Loading } from '../components/Loading';
import { ProgressBar } from '../components/ProgressBar';
import { StatusBadge } from '../components/StatusBadge';
import { Time } from '../components/Time';
import { describeAudience } from '../audience';
import { describeExpectedSegments } from '../segments';
import { SendDialog } from './SendDialog';
import { OperatorControls } from './OperatorControls';

export function CampaignDetail() {
  const id = Number(useParams().id);
  const campaign = useCampaign(id);
  const cancel = useCancelCampaign(id);
  const control = useCampaignControl(id);
  const retry = useRetryFailed(id);
  const [sending, setSending] = useState(false);
  const [sent, setSent] = useState<SendResult | null>(null);
  // stable, so the dialog's focus handling is set up once per opening, not at every refresh
  const closeSend = useCallback(() => {
    setSending(false);
  }, []);

  if (campaign.isPending) return <Loading what="the campaign" />;
  if (campaign.isError)
    return <ErrorMessage what="the campaign" error={campaign.error} onRetry={() => void campaign.refetch()} />;
  const c = campaign.data;
  const editable = c.status === 'draft' || c.status === 'scheduled';
  const finished = FINISHED.includes(c.status);
  const segmentsNote = sent === null ? null : describeExpectedSegments(sent, c.channel);

  return (
    <article aria-labelledby="campaign-title">
      <p className="crumbs">
        <Link to="/campaigns">← Campaigns</Link>
      </p>
      <div className="page-head">
        <div>
          <h1 id="campaign-title">{c.name}</h1>
          <p className="meta">
            <StatusBadge status={c.status} /> <span>{c.channel === 'sms' ? 'SMS' : 'WhatsApp'}</span>
            <span>
              created <Time iso={c.created_at} />
            </span>
          </p>
        </div>
        <div className="actions">
          {editable && (
            <Link className="button secondary" to={`/campaigns/${c.id}/edit`}>
              Edit
            </Link>
          )}
          {c.status === 'scheduled' && (
            <button
              type="button"
              className="button secondary"
              onClick={() => cancel.mutate()}
              disabled={cancel.isPending}
            >
              Cancel schedule
            </button>
          )}
          {editable && (
            <button type="button" className="button primary" onClick={() => setSending(true)}>
              Send…
            </button>
          )}
          <OperatorControls campaign={c} control={control} retry={retry} />
        </div>
      </div>
      {cancel.isError && (
        <p className="form-error" role="alert">
          {cancel.error.message}
        </p>
      )}
      {control.isError && (
        <p className="form-error" role="alert">
          {control.error.message}
        </p>
      )}
      {retry.isError && (
        <p className="form-error" role="alert">
          {retry.error.message}
        </p>
      )}
      {retry.data !== undefined && (
        <p className="notice" role="status">
          <strong>{retry.data.replayed}</strong> failed message{retry.data.replayed === 1 ? '' : 's'} queued again.
        </p>
      )}
      {c.status === 'paused' && (
        <p className="notice" role="note">
          Paused: no new message goes out until you resume. Messages already with a provider finish.
        </p>
      )}
      {sent !== null && (
        <p className="notice" role="status">
          <strong>{sent.messages_queued}</strong> message{sent.messages_queued === 1 ? '' : 's'} queued.
          {segmentsNote !== null && ` ${segmentsNote}`}
        </p>
      )}
      {c.status_reason != null && (
        <p className="form-error" role="note">
          {c.status_reason}
        </p>
      )}
      <section className="card" aria-labelledby="progress-title">
        <h2 id="progress-title">
          Progress {c.status === 'sending' && <span className="live">● live</span>}
          {c.status === 'paused' && <span className="muted"> (paused)</span>}
        </h2>
        <ProgressBar stats={c.stats} finished={finished} />
      </section>
      <div className="grid">
        <section className="card" aria-labelledby="template-title">
          <h2 id="template-title">Template</h2>
          <pre className="template">{c.base_template}</pre>
        </section>
        <section className="card" aria-labelledby="schedule-title">
          <h2 id="schedule-title">Schedule</h2>
          <p>{c.scheduled_at != null ? <Time iso={c.scheduled_at} /> : 'Not scheduled: sent when you send it.'}</p>
          <h2 id="audience-title">Audience</h2>
          <p aria-labelledby="audience-title">{describeAudience(c.audience)}</p>
          {c.audience?.customer_ids && (
            <p className="muted ids">ids {c.audience.customer_ids.join(', ')}</p>
          )}
        </section>
      </div>
      {sending && (
        <SendDialog
          campaign={c}
          onClose={closeSend}
          onSent={(result) => {
            setSent(result);
            setSending(false);
            void campaign.refetch();
          }}
        />
      )}
    </article>
  );
}
