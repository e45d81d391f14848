import { Link } from 'react-router-dom';
import { useCustomers } from '../api/queries';
import { ErrorMessage } from '../components/ErrorMessage';
import { KeysetPager, useKeysetPage } from '../components/KeysetPager';
import { Loading } from '../components/Loading';
import { Time } from '../components/Time';
import { fullName } from '../names';

export function CustomerList() {
  const page = useKeysetPage();
  const customers = useCustomers(page.beforeId);
  return (
    <section aria-labelledby="customers-title">
      <div className="page-head">
        <h1 id="customers-title">Customers</h1>
      </div>
      {customers.isPending ? (
        <Loading what="customers" />
      ) : customers.isError ? (
        <ErrorMessage what="customers" error={customers.error} onRetry={() => void customers.refetch()} />
      ) : customers.data.data.length === 0 ? (
        <div className="empty">
          <p>No customers yet. Add them with POST /customers, or `make seed`.</p>
        </div>
      ) : (
        <>
          <p className="muted">{customers.data.pagination.total_count} customers, newest first</p>
          <table className="table" aria-busy={customers.isFetching}>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Phone</th>
                <th scope="col">Location</th>
                <th scope="col">Preferred product</th>
                <th scope="col">Added</th>
              </tr>
            </thead>
            <tbody>
              {customers.data.data.map((customer) => (
                <tr key={customer.id}>
                  <td data-label="Name">
                    <Link to={`/customers/${customer.id}`}>{fullName(customer)}</Link>
                  </td>
                  <td data-label="Phone">{customer.phone}</td>
                  <td data-label="Location">{customer.location ?? '—'}</td>
                  <td data-label="Product">{customer.preferred_product ?? '—'}</td>
                  <td data-label="Added">
                    <Time iso={customer.created_at} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <KeysetPager page={page} nextCursor={customers.data.pagination.next_cursor} label="Customer pages" />
        </>
      )}
    </section>
  );
}
