import { Link, useSearchParams } from 'react-router-dom';
import { CHANNELS, STATUSES, type CampaignStatus, type Channel } from '../api/client';
import { useCampaigns } from '../api/queries';
import { ErrorMessage } from '../components/ErrorMessage';
import { KeysetPager, useKeysetPage } from '../components/KeysetPager';
import { Loading } from '../components/Loading';
import { StatusBadge } from '../components/StatusBadge';
import { Time } from '../components/Time';

function oneOf<T extends string>(values: readonly T[], value: string | null): T | undefined {
  return values.find((candidate) => candidate === value);
}

export function CampaignList() {
  const [params, setParams] = useSearchParams();
  const channel = oneOf<Channel>(CHANNELS, params.get('channel'));
  const status = oneOf<CampaignStatus>(STATUSES, params.get('status'));
  const page = useKeysetPage();
  const campaigns = useCampaigns({ channel, status, beforeId: page.beforeId });

  function filter(name: 'channel' | 'status', value: string) {
    const next = new URLSearchParams(params);
    if (value === '') next.delete(name);
    else next.set(name, value);
    setParams(next);
    page.reset();
  }

  return (
    <section aria-labelledby="campaigns-title">
      <div className="page-head">
        <h1 id="campaigns-title">Campaigns</h1>
        <Link className="button primary" to="/campaigns/new">
          New campaign
        </Link>
      </div>
      <form className="filters" role="search" aria-label="Filter campaigns" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="filter-channel">Channel</label>
          <select id="filter-channel" value={channel ?? ''} onChange={(e) => filter('channel', e.target.value)}>
            <option value="">All channels</option>
            {CHANNELS.map((value) => (
              <option key={value} value={value}>
                {value === 'sms' ? 'SMS' : 'WhatsApp'}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="filter-status">Status</label>
          <select id="filter-status" value={status ?? ''} onChange={(e) => filter('status', e.target.value)}>
            <option value="">All statuses</option>
            {STATUSES.map((value) => (
              <option key={value} value={value}>
                {value}
              </option>
            ))}
          </select>
        </div>
      </form>
      {campaigns.isPending ? (
        <Loading what="campaigns" />
      ) : campaigns.isError ? (
        <ErrorMessage what="campaigns" error={campaigns.error} onRetry={() => void campaigns.refetch()} />
      ) : campaigns.data.data.length === 0 ? (
        <div className="empty">
          <p>{channel || status ? 'No campaign matches these filters.' : 'No campaigns yet.'}</p>
          <Link to="/campaigns/new">Create a campaign</Link>
        </div>
      ) : (
        <>
          <p className="muted" aria-live="polite">
            {campaigns.data.pagination.total_count} campaign{campaigns.data.pagination.total_count === 1 ? '' : 's'}
            {page.pageNumber > 1 ? ' on this and older pages' : ''}, newest first
          </p>
          <table className="table" aria-busy={campaigns.isFetching}>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Channel</th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {campaigns.data.data.map((campaign) => (
                <tr key={campaign.id}>
                  <td data-label="Name">
                    <Link to={`/campaigns/${campaign.id}`}>{campaign.name}</Link>
                  </td>
                  <td data-label="Channel">{campaign.channel === 'sms' ? 'SMS' : 'WhatsApp'}</td>
                  <td data-label="Status">
                    <StatusBadge status={campaign.status} />
                  </td>
                  <td data-label="Created">
                    <Time iso={campaign.created_at} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <KeysetPager page={page} nextCursor={campaigns.data.pagination.next_cursor} label="Campaign pages" />
        </>
      )}
    </section>
  );
}
