DROP TRIGGER IF EXISTS customer_attribute_values_truncate ON customers;
DROP FUNCTION IF EXISTS customer_attribute_values_forget();
DROP TRIGGER IF EXISTS customer_attribute_values_delete ON customers;
DROP TRIGGER IF EXISTS customer_attribute_values_update ON customers;
DROP TRIGGER IF EXISTS customer_attribute_values_insert ON customers;
DROP FUNCTION IF EXISTS customer_attribute_values_sync();
DROP TABLE IF EXISTS customer_attribute_values;
