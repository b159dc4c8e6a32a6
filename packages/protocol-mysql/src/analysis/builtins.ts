/**
 * Built-in MySQL/MariaDB functions whose result depends only on their arguments (for lineage: a
 * call to anything else, a stored function, may read other tables, so lineage is then incomplete).
 */
export const BUILTIN_FUNCTIONS: ReadonlySet<string> = new Set(`
abs acos adddate addtime aes_decrypt aes_encrypt any_value ascii asin atan atan2 avg benchmark bin
bin_to_uuid bit_and bit_count bit_length bit_or bit_xor cast ceil ceiling char char_length
character_length charset coalesce coercibility collation compress concat concat_ws connection_id
conv convert convert_tz cos cot count crc32 cume_dist curdate current_date current_role current_time
current_timestamp current_user curtime database date date_add date_format date_sub datediff day
dayname dayofmonth dayofweek dayofyear decode default degrees dense_rank des_decrypt des_encrypt elt
encode encrypt exp export_set extract extractvalue field find_in_set first_value floor format
format_bytes format_pico_time found_rows from_base64 from_days from_unixtime get_format get_lock
greatest group_concat hex hour if ifnull inet6_aton inet6_ntoa inet_aton inet_ntoa insert instr
interval is_free_lock is_ipv4 is_ipv4_compat is_ipv4_mapped is_ipv6 is_used_lock is_uuid isnull
json_array json_array_append json_array_insert json_arrayagg json_compact json_contains
json_contains_path json_depth json_detailed json_equals json_exists json_extract json_insert
json_keys json_length json_loose json_merge json_merge_patch json_merge_preserve json_normalize
json_object json_objectagg json_overlaps json_pretty json_query json_quote json_remove json_replace
json_schema_valid json_search json_set json_storage_free json_storage_size json_type json_unquote
json_valid json_value lag last_day last_insert_id last_value lcase lead least left length ln
load_file localtime localtimestamp locate log log10 log2 lower lpad ltrim make_set makedate maketime
master_pos_wait max md5 microsecond mid min minute mod month monthname name_const now nth_value ntile
nullif oct octet_length ord password percent_rank period_add period_diff pi position pow power
quarter quote radians rand random_bytes rank regexp_instr regexp_like regexp_replace regexp_substr
release_all_locks release_lock repeat replace reverse right round row_count row_number rpad rtrim
schema sec_to_time second session_user sha sha1 sha2 sign sin sleep soundex space sqrt std stddev
stddev_pop stddev_samp str_to_date strcmp subdate substr substring substring_index subtime sum
sysdate system_user tan time time_format time_to_sec timediff timestamp timestampadd timestampdiff
to_base64 to_days to_seconds trim truncate ucase uncompress uncompressed_length unhex unix_timestamp
upper user utc_date utc_time utc_timestamp uuid uuid_short uuid_to_bin values var_pop var_samp
variance version week weekday weekofyear weight_string year yearweek exists not
`.trim().split(/\s+/));
