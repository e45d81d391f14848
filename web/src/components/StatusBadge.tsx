import type { CampaignStatus } from '../api/client';

export function StatusBadge({ status }: { status: CampaignStatus }) {
  return <span className={`badge badge-${status}`}>{status}</span>;
}
