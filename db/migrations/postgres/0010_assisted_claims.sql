-- Community service station staff (社区服务站) claim vouchers for
-- residents who come to the station, and print them as cards. A staff
-- account is an officer account of a district with its own role, which
-- opens only the station's pages.
ALTER TABLE officers DROP CONSTRAINT officers_role_check;
ALTER TABLE officers ADD CONSTRAINT officers_role_check CHECK (role IN ('city_admin', 'district_officer', 'auditor',
    'system_admin', 'security_admin', 'audit_admin', 'station_staff'));

-- A voucher claimed at a station names the staff member who claimed it
-- (the station is the staff member's district), and when its card was
-- first printed. NULL: the resident claimed it on a phone.
ALTER TABLE vouchers ADD COLUMN assisted_by bigint REFERENCES officers(id);
ALTER TABLE vouchers ADD COLUMN printed_at timestamptz;
