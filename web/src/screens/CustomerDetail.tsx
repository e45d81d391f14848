import { Link, useParams } from 'react-router-dom';
import { useCustomer } from '../api/queries';
import { ErrorMessage } from '../components/ErrorMessage';
import { Loading } from '../components/Loading';
import { Time } from '../components/Time';
import { fullName } from '../names';

export function CustomerDetail() {
  const id = Number(useParams().id);
  const customer = useCustomer(id);
  if (customer.isPending) return <Loading what="the customer" />;
  if (customer.isError)
    return <ErrorMessage what="the customer" error={customer.error} onRetry={() => void customer.refetch()} />;
  const c = customer.data;
  return (
    <article aria-labelledby="customer-title">
      <p className="crumbs">
        <Link to="/customers">← Customers</Link>
      </p>
      <h1 id="customer-title">{fullName(c)}</h1>
      <dl className="card details">
        <div>
          <dt>Customer id</dt>
          <dd>{c.id}</dd>
        </div>
        <div>
          <dt>Phone (E.164)</dt>
          <dd>{c.phone}</dd>
        </div>
        <div>
          <dt>Location</dt>
          <dd>{c.location ?? '—'}</dd>
        </div>
        <div>
          <dt>Preferred product</dt>
          <dd>{c.preferred_product ?? '—'}</dd>
        </div>
        <div>
          <dt>Added</dt>
          <dd>
            <Time iso={c.created_at} />
          </dd>
        </div>
      </dl>
    </article>
  );
}
