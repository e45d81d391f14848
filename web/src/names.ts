export function fullName(customer: { first_name: string | null; last_name: string | null }): string {
  return [customer.first_name, customer.last_name].filter(Boolean).join(' ') || '(no name)';
}
