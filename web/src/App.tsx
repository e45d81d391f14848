import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { useState } from 'react';
import { BrowserRouter, Link, Navigate, Route, Routes } from 'react-router-dom';
import { shouldRetry } from './api/queries';
import { SessionProvider, useSession } from './auth/session';
import { Layout } from './components/Layout';
import { CampaignDetail } from './screens/CampaignDetail';
import { CampaignFormScreen } from './screens/CampaignForm';
import { CampaignList } from './screens/CampaignList';
import { CustomerDetail } from './screens/CustomerDetail';
import { CustomerList } from './screens/CustomerList';
import { SignIn } from './screens/SignIn';

export function newQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: { retry: shouldRetry, staleTime: 5_000, refetchOnWindowFocus: true },
      mutations: { retry: false },
    },
  });
}

/** Signed out: the sign-in, whatever the address; signed in: the screens. */
function Gate() {
  const { api } = useSession();
  if (api === null) return <SignIn />;
  return (
    <Layout>
      <Routes>
        <Route path="/" element={<Navigate to="/campaigns" replace />} />
        <Route path="/campaigns" element={<CampaignList />} />
        <Route path="/campaigns/new" element={<CampaignFormScreen />} />
        <Route path="/campaigns/:id" element={<CampaignDetail />} />
        <Route path="/campaigns/:id/edit" element={<CampaignFormScreen />} />
        <Route path="/customers" element={<CustomerList />} />
        <Route path="/customers/:id" element={<CustomerDetail />} />
        <Route
          path="*"
          element={
            <p>
              Nothing here. <Link to="/campaigns">Go to the campaigns</Link>.
            </p>
          }
        />
      </Routes>
    </Layout>
  );
}

export function App({ queryClient, basename = '/app' }: { queryClient?: QueryClient; basename?: string }) {
  const [client] = useState(() => queryClient ?? newQueryClient());
  return (
    <QueryClientProvider client={client}>
      <SessionProvider>
        <BrowserRouter basename={basename}>
          <Gate />
        </BrowserRouter>
      </SessionProvider>
    </QueryClientProvider>
  );
}
