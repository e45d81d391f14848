// Confirm a send with the number of recipients, then show what the API queued.
import { useEffect, useRef, useState, type SyntheticEvent } from 'react';
import { ApiError, type CampaignDetail, type SendResult } from '../api/client';
import { useCustomers, useSendCampaign } from '../api/queries';
import { describeAudience, parseIds } from '../audience';

function Recipients({ campaign, ids }: { campaign: CampaignDetail; ids: number[] | null }) {
  const everybody = useCustomers(undefined, 1);
  if (ids !== null) return <>{ids.length}</>;
  const segment = campaign.audience?.segment;
  if (campaign.audience?.customer_ids) return <>{new Set(campaign.audience.customer_ids).size}</>;
  if (segment?.all) return <>{everybody.data?.pagination.total_count ?? '…'}</>;
  return <>every customer matching the segment (counted when sent)</>;
}

export function SendDialog({
  campaign,
  onClose,
  onSent,
}: {
  campaign: CampaignDetail;
  onClose: () => void;
  onSent: (result: SendResult) => void;
}) {
  const send = useSendCampaign(campaign.id);
  const [idsText, setIdsText] = useState('');
  const [idempotencyKey] = useState(() => crypto.randomUUID());
  const hasAudience = campaign.audience != null;
  const [useStored, setUseStored] = useState(hasAudience);
  const dialog = useRef<HTMLDivElement>(null);
  const ids = useStored ? null : parseIds(idsText);

  useEffect(() => {
    // a modal: focus moves in, Tab cycles inside, Escape closes, and focus returns to what opened it
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    dialog.current?.querySelector<HTMLElement>('input, button')?.focus();
    function onKey(event: KeyboardEvent) {
      if (event.key === 'Escape') {
        onClose();
        return;
      }
      if (event.key !== 'Tab' || dialog.current === null) return;
      const focusable = [...dialog.current.querySelectorAll<HTMLElement>('input, button, select, textarea, a[href]')].filter(
        (element) => !element.hasAttribute('disabled'),
      );
      const first = focusable[0];
      const last = focusable[focusable.length - 1];
      if (first === undefined || last === undefined) return;
      if (event.shiftKey && document.activeElement === first) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && document.activeElement === last) {
        event.preventDefault();
        first.focus();
      }
    }
    window.addEventListener('keydown', onKey);
    return () => {
      window.removeEventListener('keydown', onKey);
      opener?.focus();
    };
  }, [onClose]);

  function submit(event: SyntheticEvent) {
    event.preventDefault();
    if (!useStored && ids === null) return;
    send.mutate(
      { customerIds: useStored ? undefined : (ids ?? undefined), idempotencyKey },
      { onSuccess: onSent },
    );
  }

  return (
    <div className="backdrop">
      <div ref={dialog} className="card dialog" role="dialog" aria-modal="true" aria-labelledby="send-title">
        <form onSubmit={submit}>
          <h2 id="send-title">Send “{campaign.name}”?</h2>
          {hasAudience && (
            <fieldset>
              <legend>Recipients</legend>
              <label className="choice">
                <input type="radio" name="recipients" checked={useStored} onChange={() => setUseStored(true)} /> The
                campaign’s audience: {describeAudience(campaign.audience)}
              </label>
              <label className="choice">
                <input type="radio" name="recipients" checked={!useStored} onChange={() => setUseStored(false)} />{' '}
                These customer ids
              </label>
            </fieldset>
          )}
          {!useStored && (
            <div className="field">
              <label htmlFor="send-ids">Customer ids</label>
              <input
                id="send-ids"
                value={idsText}
                onChange={(event) => setIdsText(event.target.value)}
                placeholder="1, 2, 3"
                aria-describedby="send-ids-hint"
                aria-invalid={idsText !== '' && ids === null}
              />
              <p id="send-ids-hint" className="hint">
                Separated by commas or spaces; each customer gets one message.
              </p>
            </div>
          )}
          <p className="confirm-count">
            Recipients: <strong data-testid="recipient-count"><Recipients campaign={campaign} ids={ids} /></strong>
          </p>
          {send.isError && (
            <p className="form-error" role="alert">
              {send.error.message} {send.error instanceof ApiError && <code>{send.error.code}</code>}
            </p>
          )}
          <div className="actions">
            <button type="button" className="button secondary" onClick={onClose}>
              Cancel
            </button>
            <button
              type="submit"
              className="button primary"
              disabled={send.isPending || (!useStored && ids === null)}
            >
              {send.isPending ? 'Sending…' : 'Confirm send'}
            </button>
          </div>
        </form>
      </div>
    </div>
  );
}
