// Pause, resume and cancel a campaign that is going out, and send its failures again once it is done.
import { useState } from 'react';
import type { CampaignDetail } from '../api/client';
import type { CampaignControl, useCampaignControl, useRetryFailed } from '../api/queries';

interface Props {
  campaign: CampaignDetail;
  control: ReturnType<typeof useCampaignControl>;
  retry: ReturnType<typeof useRetryFailed>;
}

const BUSY: Record<CampaignControl, string> = { pause: 'Pausing…', resume: 'Resuming…', cancel: 'Cancelling…' };

export function OperatorControls({ campaign, control, retry }: Props) {
  // cancelling cannot be undone: the first click asks, the second cancels
  const [confirming, setConfirming] = useState(false);
  const { status } = campaign;
  const busy = control.isPending ? control.variables : undefined;
  const run = (action: CampaignControl) => {
    setConfirming(false);
    control.mutate(action);
  };

  if (status === 'sending' || status === 'paused') {
    return (
      <>
        {status === 'sending' ? (
          <button type="button" className="button secondary" disabled={control.isPending} onClick={() => run('pause')}>
            {busy === 'pause' ? BUSY.pause : 'Pause'}
          </button>
        ) : (
          <button type="button" className="button primary" disabled={control.isPending} onClick={() => run('resume')}>
            {busy === 'resume' ? BUSY.resume : 'Resume'}
          </button>
        )}
        {confirming ? (
          <span className="confirm" role="group" aria-label="Cancel the campaign?">
            <button type="button" className="button danger" disabled={control.isPending} onClick={() => run('cancel')}>
              Yes, cancel the rest
            </button>
            <button type="button" className="button secondary" onClick={() => setConfirming(false)}>
              Keep it
            </button>
          </span>
        ) : (
          <button
            type="button"
            className="button secondary"
            disabled={control.isPending}
            onClick={() => setConfirming(true)}
          >
            {busy === 'cancel' ? BUSY.cancel : 'Cancel campaign…'}
          </button>
        )}
      </>
    );
  }
  if ((status === 'sent' || status === 'failed') && campaign.stats.failed > 0) {
    return (
      <button type="button" className="button secondary" disabled={retry.isPending} onClick={() => retry.mutate()}>
        {retry.isPending ? 'Queueing…' : `Retry ${campaign.stats.failed} failed`}
      </button>
    );
  }
  return null;
}
