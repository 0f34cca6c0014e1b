/*
 * classify.c - the statement classifier (see classify.h). Splits a text into
 * statements with the SQL lexer (sqllex.c), decides each statement from its
 * leading keywords, and walks query text with a small clause-aware state
 * machine (paren levels, FROM items, WITH lists) that proves a read or records
 * why it is not one. Owns the built-in function lists.
 */
#include "classify.h"

#include "sqllex.h"

#include <string.h>
#include <strings.h>

/* ---- names ----------------------------------------------------------------- */

static const char *const class_names[] = {
    [SC_EMPTY] = "empty",     [SC_READ] = "read",	[SC_WRITE] = "write",
    [SC_BEGIN] = "begin",     [SC_END] = "end",		[SC_TXN] = "txn",
    [SC_SET_TXN] = "set_txn", [SC_SESSION] = "session", [SC_PIN] = "pin",
};
_Static_assert(ARRAY_SIZE(class_names) == SC__COUNT, "update class_names");

static const char *const reason_names[] = {
    [CR_EMPTY] = "empty",
    [CR_SELECT] = "select",
    [CR_VALUES] = "values",
    [CR_TABLE] = "table",
    [CR_SHOW] = "show",
    [CR_EXPLAIN] = "explain",
    [CR_COPY_TO] = "copy_to",
    [CR_FETCH] = "fetch",
    [CR_DML] = "dml",
    [CR_DDL] = "ddl",
    [CR_LOCKING_READ] = "locking_read",
    [CR_SELECT_INTO] = "select_into",
    [CR_MODIFYING_CTE] = "modifying_cte",
    [CR_EXPLAIN_ANALYZE] = "explain_analyze",
    [CR_COPY_FROM] = "copy_from",
    [CR_CALL] = "call",
    [CR_DO] = "do",
    [CR_LOCK] = "lock",
    [CR_LISTEN] = "listen",
    [CR_NOTIFY] = "notify",
    [CR_MAINTENANCE] = "maintenance",
    [CR_GRANT] = "grant",
    [CR_WRITE_FUNCTION] = "write_function",
    [CR_UNKNOWN_FUNCTION] = "unknown_function",
    [CR_MASTER_STATS] = "master_stats",
    [CR_TXN_CONTROL] = "txn_control",
    [CR_TWO_PHASE] = "two_phase",
    [CR_SET] = "set",
    [CR_TEMP] = "temp",
    [CR_ADVISORY_LOCK] = "advisory_lock",
    [CR_HOLD_CURSOR] = "hold_cursor",
    [CR_DECLARE] = "declare",
    [CR_PREPARE] = "prepare",
    [CR_HINT] = "hint",
    [CR_MULTI] = "multi",
    [CR_UNKNOWN] = "unknown",
    [CR_EXECUTE] = "execute",
    [CR_DISCARD] = "discard",
    [CR_LOAD] = "load",
    [CR_COPY_FILE] = "copy_file",
    [CR_SESSION_FUNCTION] = "session_function",
    [CR_MALFORMED] = "malformed",
    [CR_TOO_COMPLEX] = "too_complex",
    [CR_AMBIGUOUS_STRING] = "ambiguous_string",
    [CR_SEQUENCE] = "sequence",
    [CR_UNKNOWN_RELATION] = "unknown_relation",
};
_Static_assert(ARRAY_SIZE(reason_names) == CR__COUNT, "update reason_names");

const char *classify_class_name(StmtClass c)
{
	return (unsigned)c < SC__COUNT && class_names[c] ? class_names[c] : "?";
}

const char *classify_reason_name(ClassReason r)
{
	return (unsigned)r < CR__COUNT && reason_names[r] ? reason_names[r] : "?";
}

/* ---- built-in functions ---------------------------------------------------- */

typedef enum FuncClass {
	FK_NONE,
	FK_READ,       /* does not write: a replica may call it (pg_catalog only) */
	FK_WRITE,      /* writes or needs the master: CR_WRITE_FUNCTION */
	FK_ADVISORY,   /* session-level advisory lock: SC_PIN, CR_ADVISORY_LOCK */
	FK_SESSION,    /* changes session state: SC_PIN, CR_SESSION_FUNCTION */
	FK_SET_CONFIG, /* set_config: decided by its third argument */
	FK_MASTER,     /* the master's own state (function or relation): CR_MASTER_STATS */
} FuncClass;

typedef struct FuncEntry {
	const char *name;
	FuncClass kind;
} FuncEntry;

/* Sorted by name (strcmp), lower case; classify_check_tables() verifies it. */
static const FuncEntry func_table[] = {
    {"abs", FK_READ},
    {"acos", FK_READ},
    {"acosd", FK_READ},
    {"age", FK_READ},
    {"area", FK_READ},
    {"array_agg", FK_READ},
    {"array_append", FK_READ},
    {"array_cat", FK_READ},
    {"array_dims", FK_READ},
    {"array_fill", FK_READ},
    {"array_length", FK_READ},
    {"array_lower", FK_READ},
    {"array_ndims", FK_READ},
    {"array_position", FK_READ},
    {"array_positions", FK_READ},
    {"array_prepend", FK_READ},
    {"array_remove", FK_READ},
    {"array_replace", FK_READ},
    {"array_to_json", FK_READ},
    {"array_to_string", FK_READ},
    {"array_to_tsvector", FK_READ},
    {"array_upper", FK_READ},
    {"ascii", FK_READ},
    {"asin", FK_READ},
    {"asind", FK_READ},
    {"atan", FK_READ},
    {"atan2", FK_READ},
    {"atan2d", FK_READ},
    {"atand", FK_READ},
    {"avg", FK_READ},
    {"bit_and", FK_READ},
    {"bit_count", FK_READ},
    {"bit_length", FK_READ},
    {"bit_or", FK_READ},
    {"bit_xor", FK_READ},
    {"bool", FK_READ},
    {"bool_and", FK_READ},
    {"bool_or", FK_READ},
    {"box", FK_READ},
    {"bpchar", FK_READ},
    {"brin_desummarize_range", FK_WRITE},
    {"brin_summarize_new_values", FK_WRITE},
    {"brin_summarize_range", FK_WRITE},
    {"broadcast", FK_READ},
    {"btrim", FK_READ},
    {"cardinality", FK_READ},
    {"cbrt", FK_READ},
    {"ceil", FK_READ},
    {"ceiling", FK_READ},
    {"center", FK_READ},
    {"char_length", FK_READ},
    {"character_length", FK_READ},
    {"chr", FK_READ},
    {"cidr", FK_READ},
    {"circle", FK_READ},
    {"clock_timestamp", FK_READ},
    {"col_description", FK_READ},
    {"concat", FK_READ},
    {"concat_ws", FK_READ},
    {"convert", FK_READ},
    {"convert_from", FK_READ},
    {"convert_to", FK_READ},
    {"corr", FK_READ},
    {"cos", FK_READ},
    {"cosd", FK_READ},
    {"cosh", FK_READ},
    {"cot", FK_READ},
    {"cotd", FK_READ},
    {"count", FK_READ},
    {"covar_pop", FK_READ},
    {"covar_samp", FK_READ},
    {"cume_dist", FK_READ},
    {"current_database", FK_READ},
    {"current_query", FK_READ},
    {"current_schema", FK_READ},
    {"current_schemas", FK_READ},
    {"current_setting", FK_READ},
    {"currval", FK_WRITE},
    {"date", FK_READ},
    {"date_bin", FK_READ},
    {"date_part", FK_READ},
    {"date_trunc", FK_READ},
    {"datemultirange", FK_READ},
    {"daterange", FK_READ},
    {"decode", FK_READ},
    {"degrees", FK_READ},
    {"dense_rank", FK_READ},
    {"diameter", FK_READ},
    {"div", FK_READ},
    {"encode", FK_READ},
    {"enum_first", FK_READ},
    {"enum_last", FK_READ},
    {"enum_range", FK_READ},
    {"every", FK_READ},
    {"exp", FK_READ},
    {"factorial", FK_READ},
    {"family", FK_READ},
    {"first_value", FK_READ},
    {"float4", FK_READ},
    {"float8", FK_READ},
    {"floor", FK_READ},
    {"format", FK_READ},
    {"format_type", FK_READ},
    {"gcd", FK_READ},
    {"gen_random_uuid", FK_READ},
    {"generate_series", FK_READ},
    {"generate_subscripts", FK_READ},
    {"getdatabaseencoding", FK_READ},
    {"gin_clean_pending_list", FK_WRITE},
    {"has_any_column_privilege", FK_READ},
    {"has_column_privilege", FK_READ},
    {"has_database_privilege", FK_READ},
    {"has_foreign_data_wrapper_privilege", FK_READ},
    {"has_function_privilege", FK_READ},
    {"has_language_privilege", FK_READ},
    {"has_schema_privilege", FK_READ},
    {"has_sequence_privilege", FK_READ},
    {"has_server_privilege", FK_READ},
    {"has_table_privilege", FK_READ},
    {"has_tablespace_privilege", FK_READ},
    {"has_type_privilege", FK_READ},
    {"hashtext", FK_READ},
    {"height", FK_READ},
    {"host", FK_READ},
    {"hostmask", FK_READ},
    {"inet", FK_READ},
    {"inet_client_addr", FK_READ},
    {"inet_client_port", FK_READ},
    {"inet_server_addr", FK_MASTER},
    {"inet_server_port", FK_MASTER},
    {"initcap", FK_READ},
    {"int2", FK_READ},
    {"int4", FK_READ},
    {"int4multirange", FK_READ},
    {"int4range", FK_READ},
    {"int8", FK_READ},
    {"int8multirange", FK_READ},
    {"int8range", FK_READ},
    {"isclosed", FK_READ},
    {"isempty", FK_READ},
    {"isfinite", FK_READ},
    {"isopen", FK_READ},
    {"json_agg", FK_READ},
    {"json_array_elements", FK_READ},
    {"json_array_elements_text", FK_READ},
    {"json_array_length", FK_READ},
    {"json_build_array", FK_READ},
    {"json_build_object", FK_READ},
    {"json_each", FK_READ},
    {"json_each_text", FK_READ},
    {"json_extract_path", FK_READ},
    {"json_extract_path_text", FK_READ},
    {"json_object_agg", FK_READ},
    {"json_object_keys", FK_READ},
    {"json_populate_record", FK_READ},
    {"json_populate_recordset", FK_READ},
    {"json_strip_nulls", FK_READ},
    {"json_to_record", FK_READ},
    {"json_to_recordset", FK_READ},
    {"json_to_tsvector", FK_READ},
    {"json_typeof", FK_READ},
    {"jsonb_agg", FK_READ},
    {"jsonb_array_elements", FK_READ},
    {"jsonb_array_elements_text", FK_READ},
    {"jsonb_array_length", FK_READ},
    {"jsonb_build_array", FK_READ},
    {"jsonb_build_object", FK_READ},
    {"jsonb_contained", FK_READ},
    {"jsonb_contains", FK_READ},
    {"jsonb_each", FK_READ},
    {"jsonb_each_text", FK_READ},
    {"jsonb_extract_path", FK_READ},
    {"jsonb_extract_path_text", FK_READ},
    {"jsonb_insert", FK_READ},
    {"jsonb_object", FK_READ},
    {"jsonb_object_agg", FK_READ},
    {"jsonb_object_keys", FK_READ},
    {"jsonb_path_exists", FK_READ},
    {"jsonb_path_exists_tz", FK_READ},
    {"jsonb_path_match", FK_READ},
    {"jsonb_path_match_tz", FK_READ},
    {"jsonb_path_query", FK_READ},
    {"jsonb_path_query_array", FK_READ},
    {"jsonb_path_query_array_tz", FK_READ},
    {"jsonb_path_query_first", FK_READ},
    {"jsonb_path_query_first_tz", FK_READ},
    {"jsonb_path_query_tz", FK_READ},
    {"jsonb_populate_record", FK_READ},
    {"jsonb_populate_recordset", FK_READ},
    {"jsonb_pretty", FK_READ},
    {"jsonb_set", FK_READ},
    {"jsonb_set_lax", FK_READ},
    {"jsonb_strip_nulls", FK_READ},
    {"jsonb_to_record", FK_READ},
    {"jsonb_to_recordset", FK_READ},
    {"jsonb_to_tsvector", FK_READ},
    {"jsonb_typeof", FK_READ},
    {"justify_days", FK_READ},
    {"justify_hours", FK_READ},
    {"justify_interval", FK_READ},
    {"lag", FK_READ},
    {"last_value", FK_READ},
    {"lastval", FK_WRITE},
    {"lcm", FK_READ},
    {"lead", FK_READ},
    {"left", FK_READ},
    {"length", FK_READ},
    {"ln", FK_READ},
    {"log", FK_READ},
    {"log10", FK_READ},
    {"loread", FK_WRITE},
    {"lower", FK_READ},
    {"lower_inc", FK_READ},
    {"lower_inf", FK_READ},
    {"lowrite", FK_WRITE},
    {"lpad", FK_READ},
    {"lseg", FK_READ},
    {"ltrim", FK_READ},
    {"make_date", FK_READ},
    {"make_interval", FK_READ},
    {"make_time", FK_READ},
    {"make_timestamp", FK_READ},
    {"make_timestamptz", FK_READ},
    {"masklen", FK_READ},
    {"max", FK_READ},
    {"md5", FK_READ},
    {"min", FK_READ},
    {"min_scale", FK_READ},
    {"mod", FK_READ},
    {"mode", FK_READ},
    {"netmask", FK_READ},
    {"network", FK_READ},
    {"nextval", FK_WRITE},
    {"now", FK_READ},
    {"npoints", FK_READ},
    {"nth_value", FK_READ},
    {"ntile", FK_READ},
    {"num_nonnulls", FK_READ},
    {"num_nulls", FK_READ},
    {"nummultirange", FK_READ},
    {"numnode", FK_READ},
    {"numrange", FK_READ},
    {"obj_description", FK_READ},
    {"octet_length", FK_READ},
    {"parse_ident", FK_READ},
    {"path", FK_READ},
    {"percent_rank", FK_READ},
    {"percentile_cont", FK_READ},
    {"percentile_disc", FK_READ},
    {"pg_advisory_lock", FK_ADVISORY},
    {"pg_advisory_lock_shared", FK_ADVISORY},
    {"pg_advisory_unlock", FK_ADVISORY},
    {"pg_advisory_unlock_all", FK_ADVISORY},
    {"pg_advisory_unlock_shared", FK_ADVISORY},
    {"pg_advisory_xact_lock", FK_WRITE},
    {"pg_advisory_xact_lock_shared", FK_WRITE},
    {"pg_backend_memory_contexts", FK_MASTER},
    {"pg_backend_pid", FK_MASTER},
    {"pg_backup_start", FK_WRITE},
    {"pg_backup_stop", FK_WRITE},
    {"pg_blocking_pids", FK_MASTER},
    {"pg_cancel_backend", FK_WRITE},
    {"pg_client_encoding", FK_READ},
    {"pg_column_compression", FK_READ},
    {"pg_column_size", FK_READ},
    {"pg_conf_load_time", FK_MASTER},
    {"pg_copy_logical_replication_slot", FK_WRITE},
    {"pg_copy_physical_replication_slot", FK_WRITE},
    {"pg_create_restore_point", FK_WRITE},
    {"pg_current_snapshot", FK_MASTER},
    {"pg_current_wal_flush_lsn", FK_MASTER},
    {"pg_current_wal_insert_lsn", FK_MASTER},
    {"pg_current_wal_lsn", FK_MASTER},
    {"pg_current_xact_id", FK_WRITE},
    {"pg_current_xact_id_if_assigned", FK_WRITE},
    {"pg_current_xlog_flush_location", FK_MASTER},
    {"pg_current_xlog_insert_location", FK_MASTER},
    {"pg_current_xlog_location", FK_MASTER},
    {"pg_cursors", FK_MASTER},
    {"pg_database_size", FK_READ},
    {"pg_describe_object", FK_READ},
    {"pg_encoding_to_char", FK_READ},
    {"pg_export_snapshot", FK_WRITE},
    {"pg_file_rename", FK_WRITE},
    {"pg_file_sync", FK_WRITE},
    {"pg_file_unlink", FK_WRITE},
    {"pg_file_write", FK_WRITE},
    {"pg_function_is_visible", FK_READ},
    {"pg_get_constraintdef", FK_READ},
    {"pg_get_expr", FK_READ},
    {"pg_get_function_arguments", FK_READ},
    {"pg_get_function_identity_arguments", FK_READ},
    {"pg_get_function_result", FK_READ},
    {"pg_get_functiondef", FK_READ},
    {"pg_get_indexdef", FK_READ},
    {"pg_get_keywords", FK_READ},
    {"pg_get_object_address", FK_READ},
    {"pg_get_partkeydef", FK_READ},
    {"pg_get_ruledef", FK_READ},
    {"pg_get_serial_sequence", FK_READ},
    {"pg_get_statisticsobjdef", FK_READ},
    {"pg_get_triggerdef", FK_READ},
    {"pg_get_userbyid", FK_READ},
    {"pg_get_viewdef", FK_READ},
    {"pg_has_role", FK_READ},
    {"pg_identify_object", FK_READ},
    {"pg_import_system_collations", FK_WRITE},
    {"pg_index_column_has_property", FK_READ},
    {"pg_index_has_property", FK_READ},
    {"pg_indexam_has_property", FK_READ},
    {"pg_indexes_size", FK_READ},
    {"pg_is_in_recovery", FK_MASTER},
    {"pg_listening_channels", FK_MASTER},
    {"pg_locks", FK_MASTER},
    {"pg_log_backend_memory_contexts", FK_WRITE},
    {"pg_notification_queue_usage", FK_MASTER},
    {"pg_notify", FK_WRITE},
    {"pg_options_to_table", FK_READ},
    {"pg_partition_ancestors", FK_READ},
    {"pg_partition_root", FK_READ},
    {"pg_partition_tree", FK_READ},
    {"pg_postmaster_start_time", FK_MASTER},
    {"pg_prepared_statements", FK_MASTER},
    {"pg_prepared_xacts", FK_MASTER},
    {"pg_promote", FK_WRITE},
    {"pg_relation_size", FK_READ},
    {"pg_reload_conf", FK_WRITE},
    {"pg_replication_slot_advance", FK_WRITE},
    {"pg_replication_slots", FK_MASTER},
    {"pg_rotate_logfile", FK_WRITE},
    {"pg_safe_snapshot_blocking_pids", FK_MASTER},
    {"pg_shmem_allocations", FK_MASTER},
    {"pg_size_bytes", FK_READ},
    {"pg_size_pretty", FK_READ},
    {"pg_sleep", FK_READ},
    {"pg_sleep_for", FK_READ},
    {"pg_sleep_until", FK_READ},
    {"pg_start_backup", FK_WRITE},
    {"pg_stop_backup", FK_WRITE},
    {"pg_switch_wal", FK_WRITE},
    {"pg_switch_xlog", FK_WRITE},
    {"pg_table_is_visible", FK_READ},
    {"pg_table_size", FK_READ},
    {"pg_tablespace_location", FK_READ},
    {"pg_tablespace_size", FK_READ},
    {"pg_terminate_backend", FK_WRITE},
    {"pg_total_relation_size", FK_READ},
    {"pg_truncate_visibility_map", FK_WRITE},
    {"pg_try_advisory_lock", FK_ADVISORY},
    {"pg_try_advisory_lock_shared", FK_ADVISORY},
    {"pg_try_advisory_xact_lock", FK_WRITE},
    {"pg_try_advisory_xact_lock_shared", FK_WRITE},
    {"pg_type_is_visible", FK_READ},
    {"pg_typeof", FK_READ},
    {"pg_wal_replay_pause", FK_WRITE},
    {"pg_wal_replay_resume", FK_WRITE},
    {"phraseto_tsquery", FK_READ},
    {"pi", FK_READ},
    {"plainto_tsquery", FK_READ},
    {"point", FK_READ},
    {"polygon", FK_READ},
    {"power", FK_READ},
    {"querytree", FK_READ},
    {"quote_ident", FK_READ},
    {"quote_literal", FK_READ},
    {"quote_nullable", FK_READ},
    {"radians", FK_READ},
    {"radius", FK_READ},
    {"random", FK_READ},
    {"range_agg", FK_READ},
    {"range_intersect_agg", FK_READ},
    {"range_merge", FK_READ},
    {"rank", FK_READ},
    {"regexp_count", FK_READ},
    {"regexp_instr", FK_READ},
    {"regexp_like", FK_READ},
    {"regexp_match", FK_READ},
    {"regexp_matches", FK_READ},
    {"regexp_replace", FK_READ},
    {"regexp_split_to_array", FK_READ},
    {"regexp_split_to_table", FK_READ},
    {"regexp_substr", FK_READ},
    {"regr_avgx", FK_READ},
    {"regr_avgy", FK_READ},
    {"regr_count", FK_READ},
    {"regr_intercept", FK_READ},
    {"regr_r2", FK_READ},
    {"regr_slope", FK_READ},
    {"regr_sxx", FK_READ},
    {"regr_sxy", FK_READ},
    {"regr_syy", FK_READ},
    {"repeat", FK_READ},
    {"replace", FK_READ},
    {"reverse", FK_READ},
    {"right", FK_READ},
    {"round", FK_READ},
    {"row_number", FK_READ},
    {"row_to_json", FK_READ},
    {"rpad", FK_READ},
    {"rtrim", FK_READ},
    {"scale", FK_READ},
    {"set_config", FK_SET_CONFIG},
    {"setseed", FK_SESSION},
    {"setval", FK_WRITE},
    {"setweight", FK_READ},
    {"sha224", FK_READ},
    {"sha256", FK_READ},
    {"sha384", FK_READ},
    {"sha512", FK_READ},
    {"sign", FK_READ},
    {"sin", FK_READ},
    {"sind", FK_READ},
    {"sinh", FK_READ},
    {"split_part", FK_READ},
    {"sqrt", FK_READ},
    {"starts_with", FK_READ},
    {"statement_timestamp", FK_READ},
    {"stddev", FK_READ},
    {"stddev_pop", FK_READ},
    {"stddev_samp", FK_READ},
    {"string_agg", FK_READ},
    {"string_to_array", FK_READ},
    {"string_to_table", FK_READ},
    {"strip", FK_READ},
    {"strpos", FK_READ},
    {"substr", FK_READ},
    {"sum", FK_READ},
    {"tan", FK_READ},
    {"tand", FK_READ},
    {"tanh", FK_READ},
    {"text", FK_READ},
    {"timeofday", FK_READ},
    {"timestamptz", FK_READ},
    {"timezone", FK_READ},
    {"to_ascii", FK_READ},
    {"to_char", FK_READ},
    {"to_date", FK_READ},
    {"to_hex", FK_READ},
    {"to_json", FK_READ},
    {"to_jsonb", FK_READ},
    {"to_number", FK_READ},
    {"to_regclass", FK_READ},
    {"to_regnamespace", FK_READ},
    {"to_regoper", FK_READ},
    {"to_regoperator", FK_READ},
    {"to_regproc", FK_READ},
    {"to_regprocedure", FK_READ},
    {"to_regrole", FK_READ},
    {"to_regtype", FK_READ},
    {"to_timestamp", FK_READ},
    {"to_tsquery", FK_READ},
    {"to_tsvector", FK_READ},
    {"transaction_timestamp", FK_READ},
    {"translate", FK_READ},
    {"trim_array", FK_READ},
    {"trim_scale", FK_READ},
    {"trunc", FK_READ},
    {"ts_headline", FK_READ},
    {"ts_lexize", FK_READ},
    {"ts_rank", FK_READ},
    {"ts_rank_cd", FK_READ},
    {"tsmultirange", FK_READ},
    {"tsrange", FK_READ},
    {"tstzmultirange", FK_READ},
    {"tstzrange", FK_READ},
    {"tsvector_to_array", FK_READ},
    {"txid_current", FK_WRITE},
    {"txid_current_if_assigned", FK_WRITE},
    {"txid_current_snapshot", FK_MASTER},
    {"unistr", FK_READ},
    {"unnest", FK_READ},
    {"upper", FK_READ},
    {"upper_inc", FK_READ},
    {"upper_inf", FK_READ},
    {"uuid_generate_v1", FK_READ},
    {"uuid_generate_v1mc", FK_READ},
    {"uuid_generate_v3", FK_READ},
    {"uuid_generate_v4", FK_READ},
    {"uuid_generate_v5", FK_READ},
    {"var_pop", FK_READ},
    {"var_samp", FK_READ},
    {"variance", FK_READ},
    {"version", FK_READ},
    {"websearch_to_tsquery", FK_READ},
    {"width", FK_READ},
    {"width_bucket", FK_READ},
    {"xml_is_well_formed", FK_READ},
    {"xml_is_well_formed_content", FK_READ},
    {"xml_is_well_formed_document", FK_READ},
    {"xmlcomment", FK_READ},
    {"xpath", FK_READ},
    {"xpath_exists", FK_READ},
};

/* Names by prefix, after the table. FK_MASTER prefixes apply to any identifier. */
static const struct {
	const char *prefix;
	FuncClass kind;
} func_prefixes[] = {
    {"pg_stat_", FK_MASTER},
    {"pg_statio_", FK_MASTER},
    {"lo_", FK_WRITE},
    {"dblink", FK_WRITE},
    {"pg_create_", FK_WRITE},
    {"pg_drop_", FK_WRITE},
    {"pg_replication_origin_", FK_WRITE},
    {"pg_logical_", FK_WRITE},
};

static inline char lower_c(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c + ('a' - 'A')) : c;
}

static inline uint32_t fnv_step(uint32_t h, char c)
{
	return (h ^ (unsigned char)c) * 16777619u;
}

#define FUNC_HASH_SIZE 2048		   /* power of two, > 3 x the functions */
static uint16_t func_hash[FUNC_HASH_SIZE]; /* func_table index + 1; 0 = empty */

/* Fills func_hash once, before main() and before any thread exists. */
__attribute__((constructor)) static void func_hash_build(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(func_table); i++) {
		uint32_t h = 2166136261u;

		for (const char *p = func_table[i].name; *p; p++)
			h = fnv_step(h, *p);
		for (h &= FUNC_HASH_SIZE - 1; func_hash[h] != 0; h = (h + 1) & (FUNC_HASH_SIZE - 1))
			;
		func_hash[h] = (uint16_t)(i + 1);
	}
}

/* The built-in class of a name, compared without regard to (ASCII) case. */
static FuncClass func_class(const char *name, size_t len)
{
	char low[PG_NAME_MAX];
	size_t n = len < PG_NAME_MAX - 1 ? len : PG_NAME_MAX - 1;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++) {
		low[i] = lower_c(name[i]);
		h = fnv_step(h, low[i]);
	}
	for (h &= FUNC_HASH_SIZE - 1; len == n && func_hash[h] != 0;
	     h = (h + 1) & (FUNC_HASH_SIZE - 1)) {
		const FuncEntry *e = &func_table[func_hash[h] - 1];
		size_t i = 0;

		while (i < n && e->name[i] == low[i]) /* stops at the name's NUL */
			i++;
		if (i == n && e->name[n] == '\0')
			return e->kind;
	}
	for (size_t i = 0; i < ARRAY_SIZE(func_prefixes); i++) {
		size_t pl = strlen(func_prefixes[i].prefix);

		if (n >= pl && memcmp(low, func_prefixes[i].prefix, pl) == 0)
			return func_prefixes[i].kind;
	}
	return FK_NONE;
}

const char *classify_check_tables(void)
{
	const char *bad = sqllex_check_table();

	if (bad)
		return bad;
	for (size_t i = 0; i < ARRAY_SIZE(func_table); i++) {
		const char *s = func_table[i].name;

		if (i > 0 && strcmp(func_table[i - 1].name, s) >= 0)
			return s;
		if (strlen(s) >= PG_NAME_MAX || func_table[i].kind == FK_NONE)
			return s;
		for (; *s; s++)
			if (lower_c(*s) != *s)
				return func_table[i].name;
		if (func_class(func_table[i].name, strlen(func_table[i].name)) !=
		    func_table[i].kind)
			return func_table[i].name; /* not found: the search is broken */
	}
	return NULL;
}

/* ---- statement context ----------------------------------------------------- */

#define MAX_LEVELS 48 /* parenthesis levels the walker follows */
#define MAX_NEST 4    /* EXPLAIN / COPY / DECLARE inside one another */

typedef struct Verdict {
	StmtClass cls;
	ClassReason reason;
	uint32_t flags;
	uint32_t guc_off, guc_len;
	uint32_t func_off, func_len;
} Verdict;

typedef struct Ctx {
	SqlLexer lx;
	const ClassifyOptions *opt;
	SqlTok t[4];	    /* t[0]: the last token consumed, t[1] the one before... */
	bool ended;	    /* the statement's ';' (or the end) was consumed */
	bool error;	    /* TK_ERROR: PostgreSQL cannot lex the text */
	bool ambiguous;	    /* a TF_AMBIGUOUS string */
	uint32_t atomic;    /* BEGIN ATOMIC ... END depth: ';' does not end the statement */
	uint32_t nest;	    /* EXPLAIN / COPY / DECLARE nesting */
	uint32_t first_off; /* the statement's first token */
	uint32_t last_end;  /* end of its last token */
	uint64_t seen;	    /* 1 << every ClassReason noted, decisive or not (EXPLAIN) */
	Verdict v;
} Ctx;
_Static_assert(CR__COUNT <= 64, "Ctx.seen holds one bit per ClassReason");

static const SqlTok tok_eof = {.kind = TK_EOF};

static void cx_init(Ctx *c, const char *sql, uint32_t len, uint32_t pos, const ClassifyOptions *opt)
{
	memset(c, 0, sizeof(*c));
	c->opt = opt;
	sqllex_init(&c->lx, sql, len, pos, opt ? opt->std_strings : false);
}

/* The next token of the statement; TK_EOF for ever once its end was consumed. */
static SqlTok cx_next(Ctx *c)
{
	SqlTok t;

	if (c->ended)
		return tok_eof;
	t = sqllex_next(&c->lx);
	if (t.kind == TK_EOF || (t.kind == TK_SEMI && c->atomic == 0)) {
		c->ended = true;
	} else {
		c->last_end = t.off + t.len;
		if (t.kind == TK_ERROR)
			c->ended = c->error = true;
		if (t.flags & TF_AMBIGUOUS)
			c->ambiguous = true;
	}
	c->t[3] = c->t[2];
	c->t[2] = c->t[1];
	c->t[1] = c->t[0];
	c->t[0] = t;
	return t;
}

static const SqlTok *cx_peek(Ctx *c)
{
	return c->ended ? &tok_eof : sqllex_peek(&c->lx);
}

static void skip_rest(Ctx *c)
{
	while (!c->ended)
		(void)cx_next(c);
}

static void set_verdict(Ctx *c, StmtClass cls, ClassReason r)
{
	c->seen |= 1ull << r;
	c->v.cls = cls;
	c->v.reason = r;
	c->v.func_off = c->v.func_len = 0;
}

/*
 * A finding while proving a read: the first one decides, except that a
 * finding that pins outranks a plain write.
 */
static void note(Ctx *c, StmtClass cls, ClassReason r, uint32_t off, uint32_t len)
{
	Verdict *v = &c->v;

	c->seen |= 1ull << r;
	if (v->cls == SC_READ || (cls == SC_PIN && v->cls == SC_WRITE)) {
		v->cls = cls;
		v->reason = r;
		v->func_off = off;
		v->func_len = len;
	}
}

static inline bool is_name(const SqlTok *t)
{
	return t->kind == TK_WORD || t->kind == TK_QIDENT || t->kind == TK_UIDENT;
}

/* The keyword of t, unless t is not a word or is the member part of a dotted name. */
static inline Kw kw_at(const Ctx *c, int i)
{
	if (c->t[i].kind != TK_WORD || (i < 3 && c->t[i + 1].kind == TK_DOT))
		return KW_NONE;
	return (Kw)c->t[i].kw;
}

/* The text of a name token: a quoted name without its quotes. */
static void name_text(const Ctx *c, const SqlTok *t, const char **p, size_t *len)
{
	if (t->kind == TK_QIDENT) {
		*p = c->lx.s + t->off + 1;
		*len = t->len - 2;
	} else if (t->kind == TK_UIDENT) {
		*p = c->lx.s + t->off + 3;
		*len = t->len - 4;
	} else {
		*p = c->lx.s + t->off;
		*len = t->len;
	}
}

static bool name_is(const Ctx *c, const SqlTok *t, const char *lower)
{
	const char *p;
	size_t len, n = strlen(lower);

	if (t->kind != TK_WORD && t->kind != TK_QIDENT)
		return false;
	name_text(c, t, &p, &len);
	return len == n && strncasecmp(p, lower, n) == 0;
}

/* pg_temp or pg_temp_N: the session's temporary schema */
static bool is_pg_temp(const Ctx *c, const SqlTok *t)
{
	const char *p;
	size_t len;

	if (t->kind != TK_WORD && t->kind != TK_QIDENT)
		return false;
	name_text(c, t, &p, &len);
	if (len < 7 || strncasecmp(p, "pg_temp", 7) != 0)
		return false;
	if (len == 7)
		return true;
	if (p[7] != '_' || len == 8)
		return false;
	for (size_t i = 8; i < len; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return true;
}

/*
 * Identifier checks that apply wherever a name appears: the master's
 * statistics and activity, and the session's temporary schema.
 */
static void check_ident(Ctx *c, const SqlTok *t, const SqlTok *next, bool create)
{
	const char *p;
	size_t len;

	if (t->kind == TK_UIDENT) {
		/* U&"..." can spell any name: nothing about it is proven */
		note(c, SC_WRITE, CR_UNKNOWN, t->off, t->len);
		return;
	}
	name_text(c, t, &p, &len);
	if (len < 3 || strncasecmp(p, "pg_", 3) != 0)
		return;
	if (next->kind == TK_DOT && is_pg_temp(c, t))
		note(c, create ? SC_PIN : SC_WRITE, CR_TEMP, 0, 0);
	else if (func_class(p, len) == FK_MASTER) {
		if (!create)
			note(c, SC_WRITE, CR_MASTER_STATS, t->off, t->len);
		else
			c->seen |= 1ull << CR_MASTER_STATS; /* CREATE TABLE .. AS SELECT .. FROM it */
	}
}

/* ---- the query walker ------------------------------------------------------ */

/* What opened a parenthesis level. */
typedef enum Opener {
	OP_PAREN,      /* plain: expression, subquery, row */
	OP_CALL,       /* function call arguments */
	OP_CONSTRUCT,  /* keyword construct: IN (, CAST (, OVER (, varchar(10)... */
	OP_LIST,       /* alias or CTE column list */
	OP_TYPEMOD,    /* ::type(mod), AS type(mod) */
	OP_OPERATOR,   /* OPERATOR(schema.op) */
	OP_FILTER,     /* aggregate FILTER (WHERE ...) */
	OP_WITHIN,     /* WITHIN GROUP (ORDER BY ...) */
	OP_SET_CONFIG, /* set_config(name, value, is_local) */
	OP_SETS,       /* GROUPING SETS (...) */
} Opener;

/* Level flags */
#define LF_QUERY 0x01	     /* holds a query (SELECT / VALUES / TABLE / WITH) */
#define LF_FROM_PRIMARY 0x02 /* a FROM item: closing it ends a table reference */
#define LF_USING 0x04	     /* JOIN ... USING (...) */
#define LF_TSM 0x08	     /* TABLESAMPLE method (...) */
#define LF_CTE_BODY 0x10     /* WITH name AS ( body ) */
#define LF_CTE_COLS 0x20     /* WITH name ( columns ) */

/* Clause of a query level */
enum { CL_NONE, CL_SELECT, CL_FROM, CL_GROUP, CL_OTHER };

/* Where a FROM clause is (CL_FROM) */
enum {
	FS_OTHER,   /* expression (ON ...) or anything unexpected: no alias lists */
	FS_ITEM,    /* a table reference may start */
	FS_QUAL,    /* inside a dotted name */
	FS_PRIMARY, /* right after a table, function or subquery */
	FS_AS,	    /* after AS */
	FS_ALIASED, /* after the alias */
	FS_JOINKW,  /* NATURAL / LEFT / ... before JOIN */
	FS_USING,   /* after USING */
	FS_AFTER_USING,
	FS_TSM,	      /* after TABLESAMPLE */
	FS_AFTER_TSM, /* after the method's arguments: REPEATABLE (seed) may follow */
};

/* Where a WITH list is */
enum {
	WS_NONE,
	WS_NAME, /* a CTE name may come */
	WS_AFTER_NAME,
	WS_AFTER_COLS,
	WS_AS,
	WS_AFTER_BODY, /* after ( body ): ',' name, SEARCH / CYCLE, or the main statement */
	WS_TAIL,       /* inside SEARCH / CYCLE, or anything unexpected after a body */
	WS_TAIL_COMMA, /* ',' in the tail: a column of SEARCH / CYCLE, or the next CTE */
};

/* shape states for OP_OPERATOR and OP_SET_CONFIG */
#define SHAPE_BAD 9

typedef struct Level {
	uint8_t opener;	  /* Opener */
	uint8_t flags;	  /* LF_* */
	uint8_t clause;	  /* CL_* */
	uint8_t fstate;	  /* FS_* */
	uint8_t wstate;	  /* WS_* */
	uint8_t ntok;	  /* tokens seen at this level (saturates) */
	uint8_t brackets; /* open [ at this level */
	uint8_t commas;	  /* OP_SET_CONFIG: commas at this level */
	uint8_t shape;	  /* OP_OPERATOR / OP_SET_CONFIG progress */
	uint32_t name_off,
	    name_len; /* the function name of an OP_OPERATOR / OP_FILTER / OP_SET_CONFIG */
} Level;

typedef enum WalkMode {
	WM_QUERY,  /* prove a read */
	WM_DML,	   /* already a write: only calls that pin matter */
	WM_CREATE, /* CREATE: pg_temp. and BEGIN ATOMIC ... END only */
} WalkMode;

typedef struct Walk {
	Ctx *c;
	WalkMode mode;
	bool stop_at_rparen; /* COPY (query): stop at the ')' closing level 0 */
	uint32_t depth;
	uint32_t overflow; /* levels deeper than MAX_LEVELS */
	/* the '(' that follows the word just seen */
	bool pending;
	uint8_t pend_opener;
	uint32_t pend_off, pend_len;
	uint8_t last_closed; /* opener of the last ')' */
	Level lv[MAX_LEVELS];
} Walk;

static void pend(Walk *w, Opener op, uint32_t off, uint32_t len)
{
	w->pending = true;
	w->pend_opener = (uint8_t)op;
	w->pend_off = off;
	w->pend_len = len;
}

/* A token that ends an operand: after it, JOIN ( / LIKE ( are operators, not calls. */
static bool operand_end(const Ctx *c)
{
	const SqlTok *p = &c->t[1];

	switch (p->kind) {
	case TK_QIDENT:
	case TK_UIDENT:
	case TK_STRING:
	case TK_NUMBER:
	case TK_PARAM:
	case TK_RPAREN:
	case TK_RBRACKET:
		return true;
	case TK_WORD: {
		Kw k = kw_at(c, 1);
		KwCat cat = sqllex_kw_cat(k);

		if (cat == KC_NONE || cat == KC_UNRESERVED || cat == KC_COL_NAME)
			return true;
		switch (k) {
		case KW_TRUE:
		case KW_FALSE:
		case KW_NULL:
		case KW_LEFT:
		case KW_RIGHT:
		case KW_FULL:
		case KW_INNER:
		case KW_OUTER:
		case KW_CROSS:
		case KW_NATURAL:
			return true;
		default:
			return false;
		}
	}
	default:
		return false;
	}
}

/* A name as PostgreSQL folds it: unquoted words in lower case, clipped to NAMEDATALEN - 1. */
static size_t fold_ident(const Ctx *c, const SqlTok *t, char buf[PG_NAME_MAX])
{
	const char *p;
	size_t plen, n;

	name_text(c, t, &p, &plen);
	n = plen < PG_NAME_MAX - 1 ? plen : PG_NAME_MAX - 1;
	/* PostgreSQL clips identifiers on a character boundary */
	while (n < plen && n > 0 && ((unsigned char)p[n] & 0xC0) == 0x80)
		n--;
	for (size_t i = 0; i < n; i++)
		buf[i] = t->kind == TK_WORD ? lower_c(p[i]) : p[i];
	buf[n] = '\0';
	return n;
}

/* Asks the caller's lookup about a function in neither built-in list. */
static void lookup_call(Walk *w, const SqlTok *schema, const SqlTok *name, uint32_t off,
			uint32_t len)
{
	Ctx *c = w->c;
	char sbuf[PG_NAME_MAX], nbuf[PG_NAME_MAX];
	size_t nlen, slen = 0;
	FuncKind k;

	if (c->v.cls != SC_READ)
		return; /* already not a read: the answer cannot change anything */
	if (!c->opt || !c->opt->lookup) {
		note(c, SC_WRITE, CR_UNKNOWN_FUNCTION, off, len);
		return;
	}
	nlen = fold_ident(c, name, nbuf);
	if (schema)
		slen = fold_ident(c, schema, sbuf);
	k = c->opt->lookup(schema ? sbuf : NULL, slen, nbuf, nlen, name->kind != TK_WORD,
			   c->opt->lookup_arg);
	if (k == FUNC_WRITE)
		note(c, SC_WRITE, CR_WRITE_FUNCTION, off, len);
	else if (k != FUNC_READ_ONLY)
		note(c, SC_WRITE, CR_UNKNOWN_FUNCTION, off, len);
}

/*
 * A relation read in FROM: a sequence on a replica shows its WAL-logged
 * state (up to 32 values ahead), so reading one is not a replica's job.
 */
static void check_relation(Ctx *c, const SqlTok *schema, const SqlTok *name)
{
	char sbuf[PG_NAME_MAX], nbuf[PG_NAME_MAX];
	size_t nlen, slen = 0;
	FuncKind k;

	if (c->v.cls != SC_READ || !c->opt || !c->opt->rel_lookup)
		return;
	if (name->kind == TK_UIDENT || (schema && schema->kind == TK_UIDENT))
		return; /* check_ident judged it */
	nlen = fold_ident(c, name, nbuf);
	if (schema)
		slen = fold_ident(c, schema, sbuf);
	k = c->opt->rel_lookup(schema ? sbuf : NULL, slen, nbuf, nlen, name->kind != TK_WORD,
			       c->opt->rel_lookup_arg);
	if (k == FUNC_WRITE)
		note(c, SC_WRITE, CR_SEQUENCE, name->off, name->len);
	else if (k != FUNC_READ_ONLY)
		note(c, SC_WRITE, CR_UNKNOWN_RELATION, name->off, name->len);
}

static bool all_lower(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] >= 'A' && p[i] <= 'Z')
			return false;
	return true;
}

/* name ( ... is a function call: decide what calling it means. */
static void walk_call(Walk *w, const SqlTok *t, bool qualified)
{
	Ctx *c = w->c;
	const SqlTok *schema = NULL;
	const char *p;
	size_t len;
	uint32_t off = t->off, span;
	FuncClass k;

	if (qualified && is_name(&c->t[2])) {
		schema = &c->t[2];
		off = schema->off;
	}
	span = t->off + t->len - off;
	pend(w, OP_CALL, off, span);
	if (w->mode == WM_CREATE)
		return;
	if (t->kind == TK_UIDENT || (t->flags & TF_DOUBLED) ||
	    (schema && (schema->kind == TK_UIDENT || (schema->flags & TF_DOUBLED)))) {
		note(c, SC_WRITE, CR_UNKNOWN_FUNCTION, off, span);
		return;
	}
	name_text(c, t, &p, &len);
	k = func_class(p, len);
	switch (k) {
	case FK_WRITE:
		note(c, SC_WRITE, CR_WRITE_FUNCTION, off, span);
		return;
	case FK_ADVISORY:
		note(c, SC_PIN, CR_ADVISORY_LOCK, off, span);
		return;
	case FK_SESSION:
		note(c, SC_PIN, CR_SESSION_FUNCTION, off, span);
		return;
	case FK_SET_CONFIG:
		pend(w, OP_SET_CONFIG, off, span);
		return;
	case FK_MASTER:
		note(c, SC_WRITE, CR_MASTER_STATS, off, span);
		return;
	case FK_READ:
		/* the built-in is the one PostgreSQL finds first: pg_catalog, lower case */
		if ((!schema || name_is(c, schema, "pg_catalog")) &&
		    (t->kind == TK_WORD || all_lower(p, len)) &&
		    (!schema || schema->kind == TK_WORD ||
		     memcmp(c->lx.s + schema->off + 1, "pg_catalog", 10) == 0))
			return;
		break;
	default:
		break;
	}
	lookup_call(w, schema, t, off, span);
}

/* An unreserved keyword followed by '(' that the grammar reads as a construct here. */
static bool unreserved_construct(Walk *w, const Level *L, Kw kw, Opener *op)
{
	Ctx *c = w->c;
	Kw pkw = kw_at(c, 1);
	const SqlTok *prev = &c->t[1];

	*op = OP_CONSTRUCT;
	switch (kw) {
	case KW_FILTER: /* count(*) FILTER (WHERE ...): checked at the next token */
		*op = OP_FILTER;
		return prev->kind == TK_RPAREN && w->last_closed == OP_CALL;
	case KW_OVER:
		return prev->kind == TK_RPAREN &&
		       (w->last_closed == OP_CALL || w->last_closed == OP_FILTER ||
			w->last_closed == OP_WITHIN);
	case KW_MATERIALIZED:
		return pkw == KW_AS || (pkw == KW_NOT && kw_at(c, 2) == KW_AS);
	case KW_SETS:
		*op = OP_SETS;
		return pkw == KW_GROUPING;
	case KW_CUBE:
	case KW_ROLLUP:
		return (L->clause == CL_GROUP && (pkw == KW_BY || prev->kind == TK_COMMA)) ||
		       (L->opener == OP_SETS &&
			(prev->kind == TK_LPAREN || prev->kind == TK_COMMA));
	case KW_BY: /* GROUP BY (a, b); not FETCH FIRST by(1) ROWS ONLY */
		return pkw == KW_GROUP || pkw == KW_ORDER || pkw == KW_PARTITION;
	case KW_ZONE:
		return pkw == KW_TIME;
	case KW_SECOND: /* INTERVAL '1' SECOND (3), DAY TO SECOND (3); not SIMILAR TO second(x) */
		if (pkw == KW_TO)
			return c->t[2].kind == TK_WORD && c->t[3].kind != TK_DOT &&
			       (sqllex_tok_is(&c->lx, &c->t[2], "day") ||
				sqllex_tok_is(&c->lx, &c->t[2], "hour") ||
				sqllex_tok_is(&c->lx, &c->t[2], "minute"));
		return pkw == KW_INTERVAL || prev->kind == TK_STRING;
	case KW_VARYING:
		return pkw == KW_CHARACTER || pkw == KW_CHAR || pkw == KW_NCHAR || pkw == KW_BIT;
	case KW_OPERATOR: /* checked when it closes */
		*op = OP_OPERATOR;
		return true;
	default:
		return false;
	}
}

/* name ( : a call, a construct, an alias list or a type modifier. */
static void walk_paren_word(Walk *w, Level *L, const SqlTok *t, bool qualified, bool list)
{
	Ctx *c = w->c;
	const SqlTok *before;
	Opener op;

	if (list) {
		pend(w, OP_LIST, 0, 0);
		return;
	}
	/* the token before the (possibly dotted) name */
	before = !qualified					 ? &c->t[1]
		 : (is_name(&c->t[2]) && c->t[3].kind != TK_DOT) ? &c->t[3]
								 : NULL;
	if (before &&
	    (before->kind == TK_CAST || (before->kind == TK_WORD && before->kw == KW_AS))) {
		pend(w, OP_TYPEMOD, 0,
		     0); /* ::numeric(10,2), CAST(x AS varchar(3)), AS alias(cols) */
		return;
	}
	if (!qualified && t->kind == TK_WORD) {
		Kw kw = (Kw)t->kw;

		switch (sqllex_kw_cat(kw)) {
		case KC_RESERVED:
		case KC_COL_NAME:
			/* never a function name unless qualified or quoted */
			if (kw == KW_FROM || kw == KW_LATERAL || kw == KW_ONLY)
				op = OP_PAREN; /* FROM ( subquery or joined table ) */
			else if (kw == KW_GROUP && sqllex_tok_is(&c->lx, &c->t[1], "within"))
				op = OP_WITHIN;
			else
				op = OP_CONSTRUCT;
			pend(w, op, 0, 0);
			return;
		case KC_TYPE_FUNC:
			if ((kw == KW_JOIN || kw == KW_LIKE || kw == KW_ILIKE ||
			     kw == KW_OVERLAPS) &&
			    operand_end(c)) {
				pend(w, kw == KW_JOIN ? OP_PAREN : OP_CONSTRUCT, 0, 0);
				return;
			}
			break;
		case KC_UNRESERVED:
			if (unreserved_construct(w, L, kw, &op)) {
				pend(w, op, t->off, t->len);
				return;
			}
			break;
		default:
			break;
		}
	}
	walk_call(w, t, qualified);
}

/* DML keyword inside a query: a statement of its own, or a name? */
static void walk_dml_word(Walk *w, Level *L, bool first)
{
	Ctx *c = w->c;
	const SqlTok *prev = &c->t[1];
	Kw pkw = kw_at(c, 1);
	/* a statement may start a level, but never a call's arguments or a list */
	bool args = L->opener == OP_CALL || L->opener == OP_SET_CONFIG;
	bool start = (first && !args) || L->wstate == WS_AFTER_BODY || L->wstate == WS_TAIL;

	/* checked first: a CTE's SEARCH / CYCLE clause may end in a column named key or by */
	if (!start) {
		KwCat pcat = sqllex_kw_cat(pkw);
		Kw p2 = kw_at(c, 2);

		if (first)
			return; /* f(update): a column */

		if (pkw == KW_FOR || (pkw == KW_KEY && p2 == KW_NO && kw_at(c, 3) == KW_FOR))
			return; /* FOR UPDATE, FOR NO KEY UPDATE: a locking clause (see KW_FOR) */
		if (pkw == KW_BY && (p2 == KW_ORDER || p2 == KW_GROUP || p2 == KW_PARTITION))
			return; /* ORDER BY update */

		if (L->wstate == WS_NAME)
			return; /* WITH delete AS (...) */
		switch (prev->kind) {
		case TK_COMMA:
		case TK_CAST:
		case TK_OP:
		case TK_DOT:
		case TK_NUMBER:
		case TK_STRING:
		case TK_PARAM:
			return; /* a column, alias or type named so */
		default:
			break;
		}
		if (pcat == KC_RESERVED || pcat == KC_TYPE_FUNC)
			return; /* SELECT update, FROM delete, AS insert... */
	}
	/* a statement start, or a place the walker cannot prove is a name */
	note(c, SC_WRITE, w->depth == 0 ? CR_DML : CR_MODIFYING_CTE, 0, 0);
	if (start)
		L->wstate = WS_NONE;
}

/* The WITH list state machine; true when the word is a CTE name followed by '(' */
static bool walk_with_word(Level *L, const SqlTok *t, Kw kw, const SqlTok *n)
{
	bool paren = n->kind == TK_LPAREN;

	switch (L->wstate) {
	case WS_TAIL_COMMA:
		if (paren || (n->kind == TK_WORD && n->kw == KW_AS)) {
			L->wstate = WS_AFTER_NAME; /* the next CTE: name ( or name AS */
			return paren;
		}
		L->wstate = WS_TAIL;
		return false;
	case WS_NAME:
		if (kw == KW_RECURSIVE)
			return false;
		if (t->kind != TK_WORD || sqllex_kw_cat(kw) != KC_RESERVED) {
			L->wstate = WS_AFTER_NAME;
			return paren;
		}
		L->wstate = WS_NONE;
		return false;
	case WS_AFTER_NAME:
	case WS_AFTER_COLS:
		L->wstate = kw == KW_AS ? WS_AS : WS_NONE;
		return false;
	case WS_AS:
		if (kw != KW_NOT && kw != KW_MATERIALIZED)
			L->wstate = WS_NONE;
		return false;
	case WS_AFTER_BODY:
	case WS_TAIL:
		if (kw == KW_SELECT || kw == KW_VALUES || kw == KW_TABLE)
			L->wstate = WS_NONE;
		else
			L->wstate = WS_TAIL; /* SEARCH / CYCLE clauses, or something unexpected */
		return false;
	default:
		return false;
	}
}

/* A word that may be a table alias (ColId): not reserved, not a type/function keyword. */
static bool aliasable(const SqlTok *t, Kw kw)
{
	KwCat cat = sqllex_kw_cat(kw);

	return t->kind == TK_QIDENT ||
	       (t->kind == TK_WORD && cat != KC_RESERVED && cat != KC_TYPE_FUNC);
}

/* The FROM clause state machine; true when the word is an alias followed by its column list. */
static bool walk_from_word(Walk *w, Level *L, const SqlTok *t, Kw kw, bool qualified,
			   const SqlTok *n)
{
	bool paren = n->kind == TK_LPAREN;

	if (qualified) {
		if (L->fstate == FS_QUAL) {
			L->fstate = n->kind == TK_DOT || paren ? FS_QUAL : FS_PRIMARY;
			if (L->fstate == FS_PRIMARY)
				check_relation(w->c, &w->c->t[2], t);
		} else {
			L->fstate = FS_OTHER;
		}
		return false;
	}
	switch (kw) {
	case KW_JOIN:
		if (!paren || operand_end(w->c))
			L->fstate = FS_ITEM;
		else
			L->fstate = FS_OTHER;
		return false;
	case KW_NATURAL:
	case KW_CROSS:
	case KW_LEFT:
	case KW_RIGHT:
	case KW_FULL:
	case KW_INNER:
	case KW_OUTER:
		L->fstate = paren ? FS_OTHER : FS_JOINKW;
		return false;
	case KW_ON:
		L->fstate = FS_OTHER;
		return false;
	case KW_USING:
		L->fstate = FS_USING;
		return false;
	default:
		break;
	}
	switch (L->fstate) {
	case FS_ITEM:
		if (kw == KW_LATERAL || kw == KW_ONLY)
			return false;
		if (kw == KW_ROWS && n->kind == TK_WORD && n->kw == KW_FROM)
			return false; /* ROWS FROM ( ... ) */
				      /* fall through */
	case FS_QUAL:
		if (aliasable(t, kw) || (t->kind == TK_WORD && paren)) {
			bool item = L->fstate == FS_ITEM;
			L->fstate = n->kind == TK_DOT || paren ? FS_QUAL : FS_PRIMARY;
			if (item && L->fstate == FS_PRIMARY)
				check_relation(w->c, NULL, t);
		} else {
			L->fstate = FS_OTHER;
		}
		return false;
	case FS_PRIMARY:
		if (kw == KW_WITH || kw == KW_ORDINALITY)
			return false;
		/* fall through */
	case FS_AFTER_USING:
		if (kw == KW_AS) {
			L->fstate = FS_AS;
			return false;
		}
		if (kw == KW_TABLESAMPLE && L->fstate == FS_PRIMARY) {
			L->fstate = FS_TSM;
			return false;
		}
		if (L->fstate == FS_PRIMARY && aliasable(t, kw)) {
			L->fstate = FS_ALIASED;
			return paren;
		}
		L->fstate = FS_OTHER;
		return false;
	case FS_AS:
		if (aliasable(t, kw)) {
			L->fstate = FS_ALIASED;
			return paren;
		}
		L->fstate = FS_OTHER;
		return false;
	case FS_ALIASED:
		L->fstate = kw == KW_TABLESAMPLE ? FS_TSM : FS_OTHER;
		return false;
	case FS_JOINKW:
		if (kw != KW_OUTER)
			L->fstate = FS_OTHER;
		return false;
	case FS_TSM:
		if (!paren) /* else the method's arguments follow (LF_TSM) */
			L->fstate = FS_OTHER;
		return false;
	default:
		L->fstate = FS_OTHER;
		return false;
	}
}

/* Clause keywords of a query level. */
static void walk_clause_word(Walk *w, Level *L, Kw kw, bool paren)
{
	Kw pkw = kw_at(w->c, 1);

	switch (kw) {
	case KW_SELECT:
	case KW_VALUES:
		L->flags |= LF_QUERY;
		L->clause = CL_SELECT;
		break;
	case KW_FROM:
		if ((L->flags & LF_QUERY) && pkw != KW_DISTINCT && pkw != KW_ROWS) {
			L->clause = CL_FROM;
			L->fstate = FS_ITEM;
			L->brackets = 0;
		}
		break;
	case KW_GROUP:
		if (!paren)
			L->clause = CL_GROUP;
		break;
	case KW_WHERE:
	case KW_HAVING:
	case KW_WINDOW:
	case KW_ORDER:
	case KW_LIMIT:
	case KW_OFFSET:
	case KW_FETCH:
	case KW_FOR:
	case KW_UNION:
	case KW_INTERSECT:
	case KW_EXCEPT:
	case KW_RETURNING:
	case KW_INTO:
		L->clause = CL_OTHER;
		break;
	default:
		break;
	}
}

static void walk_word(Walk *w, Level *L, const SqlTok *t, bool first)
{
	Ctx *c = w->c;
	const SqlTok *n = cx_peek(c);
	bool paren = n->kind == TK_LPAREN;
	bool qualified = c->t[1].kind == TK_DOT;
	Kw kw = (t->kind == TK_WORD && !qualified) ? (Kw)t->kw : KW_NONE;
	KwCat cat = sqllex_kw_cat(kw);
	bool list = false;

	if ((cat == KC_NONE || cat == KC_UNRESERVED) && !(t->kind == TK_UIDENT && paren))
		check_ident(c, t, n, false); /* a U&"name" ( is judged as a call */
	if (first && (kw == KW_SELECT || kw == KW_VALUES || kw == KW_TABLE || kw == KW_WITH)) {
		L->flags |= LF_QUERY;
		if (kw == KW_WITH) {
			L->wstate = WS_NAME;
			return;
		}
	}
	switch (kw) {
	case KW_INTO: {
		Kw pkw = kw_at(c, 1);

		if (pkw == KW_INSERT || pkw == KW_MERGE)
			break;
		if ((n->kind == TK_WORD && (n->kw == KW_TEMP || n->kw == KW_TEMPORARY ||
					    n->kw == KW_LOCAL || n->kw == KW_GLOBAL)) ||
		    is_pg_temp(c, n))
			note(c, SC_PIN, CR_TEMP, 0, 0);
		else
			note(c, SC_WRITE, CR_SELECT_INTO, 0, 0);
		break;
	}
	case KW_FOR:
		if (n->kind == TK_WORD &&
		    (n->kw == KW_UPDATE || n->kw == KW_SHARE || n->kw == KW_NO || n->kw == KW_KEY))
			note(c, SC_WRITE, CR_LOCKING_READ, 0, 0);
		break;
	case KW_INSERT:
	case KW_UPDATE:
	case KW_DELETE:
	case KW_MERGE:
		walk_dml_word(w, L, first);
		break;
	default:
		break;
	}
	if (L->wstate != WS_NONE && walk_with_word(L, t, kw, n))
		list = true;
	if ((L->flags & LF_QUERY) || kw == KW_SELECT || kw == KW_VALUES) {
		walk_clause_word(w, L, kw, paren);
		if (L->clause == CL_FROM && kw != KW_FROM) {
			uint8_t before = L->fstate;

			if (walk_from_word(w, L, t, kw, qualified, n))
				list = true;
			if (paren &&
			    (before == FS_TSM || (before == FS_AFTER_TSM && kw == KW_REPEATABLE))) {
				pend(w, OP_CONSTRUCT, 0, 0);
				return;
			}
		}
	}
	if (paren)
		walk_paren_word(w, L, t, qualified, list);
}

static void walk_push(Walk *w, Level *L)
{
	Level *ch;
	uint8_t flags = 0;

	if (w->depth + 1 >= MAX_LEVELS) {
		w->overflow = 1;
		w->pending = false;
		note(w->c, SC_WRITE, CR_TOO_COMPLEX, 0, 0);
		return;
	}
	if (L->clause == CL_FROM) {
		switch (L->fstate) {
		case FS_ITEM:
		case FS_QUAL:
			flags |= LF_FROM_PRIMARY;
			break;
		case FS_USING:
			flags |= LF_USING;
			break;
		case FS_TSM:
			flags |= LF_TSM;
			break;
		default:
			break;
		}
		L->fstate = FS_OTHER; /* until it closes */
	}
	switch (L->wstate) {
	case WS_AFTER_NAME:
		flags |= LF_CTE_COLS;
		break;
	case WS_AS:
		flags |= LF_CTE_BODY;
		break;
	case WS_AFTER_BODY:
	case WS_TAIL:
	case WS_TAIL_COMMA:
		L->wstate = WS_NONE; /* WITH ... (SELECT ...): the main query */
		break;
	default:
		break;
	}
	ch = &w->lv[++w->depth];
	memset(ch, 0, sizeof(*ch));
	ch->flags = flags;
	if (w->pending) {
		ch->opener = w->pend_opener;
		ch->name_off = w->pend_off;
		ch->name_len = w->pend_len;
		w->pending = false;
	}
	if (flags & LF_CTE_BODY)
		ch->opener = OP_PAREN; /* AS [NOT] MATERIALIZED ( statement ) */
}

/* false, or true when the ')' closing level 0 of a COPY (query) was reached */
static bool walk_pop(Walk *w)
{
	Ctx *c = w->c;
	Level *ch, *P;

	if (w->depth == 0)
		return w->stop_at_rparen; /* else unbalanced: PostgreSQL rejects it */
	ch = &w->lv[w->depth];
	if (w->mode != WM_CREATE) {
		if (ch->opener == OP_OPERATOR && ch->shape != 3)
			note(c, SC_WRITE, CR_UNKNOWN_FUNCTION, ch->name_off, ch->name_len);
		if (ch->opener == OP_SET_CONFIG) {
			if (ch->commas == 2 && ch->shape == 2)
				note(c, SC_WRITE, CR_WRITE_FUNCTION, ch->name_off, ch->name_len);
			else
				note(c, SC_PIN, CR_SESSION_FUNCTION, ch->name_off, ch->name_len);
		}
	}
	w->last_closed = ch->opener;
	P = &w->lv[--w->depth];
	if (P->clause == CL_FROM) {
		if (ch->flags & LF_FROM_PRIMARY)
			P->fstate = FS_PRIMARY;
		else if (ch->flags & LF_USING)
			P->fstate = FS_AFTER_USING;
		else if (ch->flags & LF_TSM)
			P->fstate = FS_AFTER_TSM;
		else
			P->fstate = FS_OTHER;
	}
	if (ch->flags & LF_CTE_COLS)
		P->wstate = WS_AFTER_COLS;
	else if (ch->flags & LF_CTE_BODY)
		P->wstate = WS_AFTER_BODY;
	return false;
}

/* Per-level shape checks of OPERATOR (...) and set_config(...). */
static void walk_shape(Walk *w, Level *L, const SqlTok *t, bool first)
{
	Ctx *c = w->c;

	switch (L->opener) {
	case OP_FILTER:
		if (first && !(t->kind == TK_WORD && t->kw == KW_WHERE))
			note(c, SC_WRITE, CR_UNKNOWN_FUNCTION, L->name_off, L->name_len);
		break;
	case OP_OPERATOR:
		/* [name .]... operator */
		if (is_name(t) && (L->shape == 0 || L->shape == 2))
			L->shape = 1;
		else if (t->kind == TK_DOT && L->shape == 1)
			L->shape = 2;
		else if (t->kind == TK_OP && (L->shape == 0 || L->shape == 2))
			L->shape = 3;
		else
			L->shape = SHAPE_BAD;
		break;
	case OP_SET_CONFIG:
		/* the third argument must be the single word TRUE */
		if (t->kind == TK_COMMA) {
			L->commas = L->commas < 3 ? L->commas + 1 : 3;
			L->shape = L->commas == 2 ? 1 : SHAPE_BAD;
		} else if (L->shape == 1) {
			L->shape = (t->kind == TK_WORD && t->kw == KW_TRUE) ? 2 : SHAPE_BAD;
		} else if (L->shape == 2) {
			L->shape = SHAPE_BAD;
		}
		break;
	default:
		break;
	}
}

/* CREATE: only the temporary schema and BEGIN ATOMIC ... END matter. */
static void walk_create_token(Walk *w, const SqlTok *t)
{
	Ctx *c = w->c;

	if (t->kind != TK_WORD && t->kind != TK_QIDENT)
		return;
	check_ident(c, t, cx_peek(c), true);
	if (t->kind != TK_WORD || c->t[1].kind == TK_DOT)
		return;
	if (t->kw == KW_BEGIN && cx_peek(c)->kind == TK_WORD && cx_peek(c)->kw == KW_ATOMIC)
		c->atomic++;
	else if (c->atomic > 0 && t->kw == KW_CASE)
		c->atomic++;
	else if (c->atomic > 0 && t->kw == KW_END)
		c->atomic--;
}

/* One token; true when a COPY (query) is complete. */
static bool walk_step(Walk *w, const SqlTok *t)
{
	Level *L = &w->lv[w->depth];
	bool first = L->ntok == 0;

	if (w->mode == WM_CREATE) {
		walk_create_token(w, t);
		return false;
	}
	if (w->overflow) {
		if (t->kind == TK_LPAREN)
			w->overflow++;
		else if (t->kind == TK_RPAREN)
			w->overflow--;
		return false;
	}
	if (t->kind == TK_RPAREN)
		return walk_pop(w);
	if (L->ntok < 255)
		L->ntok++;
	walk_shape(w, L, t, first);
	if (first && (L->flags & LF_FROM_PRIMARY) && L->opener == OP_PAREN &&
	    !(t->kind == TK_WORD && (t->kw == KW_SELECT || t->kw == KW_VALUES ||
				     t->kw == KW_TABLE || t->kw == KW_WITH))) {
		/* FROM ( a JOIN b ... ): a joined table, a FROM list of its own */
		L->flags |= LF_QUERY;
		L->clause = CL_FROM;
		L->fstate = FS_ITEM;
	}
	switch (t->kind) {
	case TK_WORD:
	case TK_QIDENT:
	case TK_UIDENT:
		walk_word(w, L, t, first);
		return false;
	case TK_LPAREN:
		walk_push(w, L);
		return false;
	case TK_COMMA:
		if (L->wstate == WS_AFTER_BODY)
			L->wstate = WS_NAME;
		else if (L->wstate == WS_TAIL || L->wstate == WS_TAIL_COMMA)
			L->wstate = WS_TAIL_COMMA;
		else if (L->wstate != WS_NONE)
			L->wstate = WS_NONE;
		if (L->clause == CL_FROM && L->brackets == 0)
			L->fstate = FS_ITEM;
		return false;
	case TK_SEMI:
		return false; /* inside BEGIN ATOMIC: not reached in queries */
	default:
		break;
	}
	if (L->wstate == WS_AFTER_BODY || L->wstate == WS_TAIL_COMMA)
		L->wstate = WS_TAIL;
	else if (L->wstate != WS_TAIL)
		L->wstate = WS_NONE;
	if (L->clause == CL_FROM) {
		if (t->kind == TK_LBRACKET) {
			if (L->brackets < 255)
				L->brackets++;
			L->fstate = FS_OTHER;
		} else if (t->kind == TK_RBRACKET) {
			if (L->brackets > 0)
				L->brackets--;
			L->fstate = FS_OTHER;
		} else if (t->kind == TK_DOT) {
			if (L->fstate != FS_QUAL)
				L->fstate = FS_OTHER;
		} else if (!(t->kind == TK_OP && t->len == 1 && w->c->lx.s[t->off] == '*' &&
			     L->fstate == FS_PRIMARY)) {
			L->fstate = FS_OTHER; /* "t *" keeps the primary */
		}
	}
	return false;
}

/*
 * Walks the statement from first (already consumed; NULL: none) to its end,
 * or to the ')' that closes level 0 when stop_at_rparen.
 */
static void walk(Ctx *c, const SqlTok *first, bool stop_at_rparen, WalkMode mode)
{
	Walk w;

	w.c = c;
	w.mode = mode;
	w.stop_at_rparen = stop_at_rparen;
	w.depth = 0;
	w.overflow = 0;
	w.pending = false;
	w.last_closed = OP_PAREN;
	memset(&w.lv[0], 0, sizeof(w.lv[0]));
	if (first && walk_step(&w, first))
		return;
	while (!c->ended) {
		SqlTok t = cx_next(c);

		if (c->ended)
			break;
		if (walk_step(&w, &t))
			return;
	}
	if (stop_at_rparen) /* the statement ended inside COPY ( ... */
		note(c, SC_WRITE, CR_UNKNOWN, 0, 0);
}

/* ---- statements ------------------------------------------------------------ */

static void classify_body(Ctx *c, SqlTok t);

static bool is_query_start(const SqlTok *t)
{
	return t->kind == TK_LPAREN ||
	       (t->kind == TK_WORD && (t->kw == KW_SELECT || t->kw == KW_VALUES ||
				       t->kw == KW_TABLE || t->kw == KW_WITH));
}

static void stmt_query(Ctx *c, const SqlTok *first, ClassReason r)
{
	set_verdict(c, SC_READ, r);
	walk(c, first, false, WM_QUERY);
}

/* Sets a verdict and ignores the rest of the statement. */
static void stmt_simple(Ctx *c, StmtClass cls, ClassReason r)
{
	set_verdict(c, cls, r);
	skip_rest(c);
}

/* The text of a value token: a word, a number, or a plain '...' string without quotes. */
static bool value_text(const Ctx *c, const SqlTok *t, const char **p, size_t *len)
{
	const char *s = c->lx.s + t->off;

	if (t->kind == TK_WORD || t->kind == TK_NUMBER) {
		*p = s;
		*len = t->len;
		return true;
	}
	if (t->kind == TK_STRING && s[0] == '\'' && t->len >= 2) {
		*p = s + 1;
		*len = t->len - 2;
		return true;
	}
	return false;
}

static bool text_is(const char *p, size_t len, const char *lower)
{
	return strlen(lower) == len && strncasecmp(p, lower, len) == 0;
}

/* 1 true, 0 false, -1 neither (DEFAULT, something else) */
static int value_bool(const Ctx *c, const SqlTok *t)
{
	static const char *const yes[] = {"on", "true", "yes", "1", "t", "y"};
	static const char *const no[] = {"off", "false", "no", "0", "f", "n"};
	const char *p;
	size_t len;

	if (!value_text(c, t, &p, &len))
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (text_is(p, len, yes[i]))
			return 1;
		if (text_is(p, len, no[i]))
			return 0;
	}
	return -1;
}

/* Transaction modes up to the end: ISOLATION LEVEL ..., READ ONLY / WRITE, [NOT] DEFERRABLE. */
static uint32_t txn_modes(Ctx *c)
{
	uint32_t f = 0;
	Kw prev = KW_NONE;

	while (!c->ended) {
		SqlTok t = cx_next(c);
		Kw kw = t.kind == TK_WORD ? (Kw)t.kw : KW_NONE;

		switch (kw) {
		case KW_SERIALIZABLE:
			f |= SF_SERIALIZABLE;
			break;
		case KW_REPEATABLE:
			f |= SF_REPEATABLE_READ;
			break;
		case KW_ONLY:
			if (prev == KW_READ)
				f |= SF_READ_ONLY;
			break;
		case KW_WRITE:
			if (prev == KW_READ)
				f |= SF_READ_WRITE;
			break;
		case KW_DEFERRABLE:
			if (prev != KW_NOT)
				f |= SF_DEFERRABLE;
			break;
		default:
			break;
		}
		prev = kw;
	}
	return f;
}

/* COMMIT / END / ROLLBACK / ABORT: AND [NO] CHAIN, ROLLBACK ... TO */
static void stmt_end(Ctx *c, Kw kw)
{
	const SqlTok *n = cx_peek(c);
	Kw prev = KW_NONE;
	bool to = false;
	uint32_t f = (kw == KW_ROLLBACK || kw == KW_ABORT) ? SF_ROLLBACK : 0;

	if ((kw == KW_COMMIT || kw == KW_ROLLBACK) && n->kind == TK_WORD && n->kw == KW_PREPARED) {
		stmt_simple(c, SC_WRITE, CR_TWO_PHASE);
		return;
	}
	while (!c->ended) {
		SqlTok t = cx_next(c);
		Kw k = t.kind == TK_WORD ? (Kw)t.kw : KW_NONE;

		if (k == KW_TO)
			to = true;
		if (k == KW_CHAIN && prev != KW_NO)
			f |= SF_CHAIN;
		prev = k;
	}
	if (to && kw == KW_ROLLBACK) {
		set_verdict(c, SC_TXN, CR_TXN_CONTROL);
		return;
	}
	set_verdict(c, SC_END, CR_TXN_CONTROL);
	c->v.flags |= f;
}

/* The GUCs whose values the router wants as flags. */
static void set_guc_flags(Ctx *c, const SqlTok *name)
{
	enum { G_RO, G_ISO, G_DEFER } which;
	bool txn;
	SqlTok t;
	int b;

	if (name_is(c, name, "default_transaction_read_only"))
		which = G_RO, txn = false;
	else if (name_is(c, name, "transaction_read_only"))
		which = G_RO, txn = true;
	else if (name_is(c, name, "default_transaction_isolation"))
		which = G_ISO, txn = false;
	else if (name_is(c, name, "transaction_isolation"))
		which = G_ISO, txn = true;
	else if (name_is(c, name, "default_transaction_deferrable"))
		which = G_DEFER, txn = false;
	else if (name_is(c, name, "transaction_deferrable"))
		which = G_DEFER, txn = true;
	else
		return;
	if (txn)
		c->v.cls = SC_SET_TXN; /* applies to the current transaction */
	t = cx_next(c);
	if (!(t.kind == TK_WORD && t.kw == KW_TO) && !(t.kind == TK_OP && t.len == 1))
		return;
	t = cx_next(c);
	b = value_bool(c, &t);
	if (which == G_RO && b >= 0)
		c->v.flags |= b ? SF_READ_ONLY : SF_READ_WRITE;
	else if (which == G_DEFER && b == 1)
		c->v.flags |= SF_DEFERRABLE;
	else if (which == G_ISO) {
		const char *p;
		size_t len;

		if (value_text(c, &t, &p, &len)) {
			if (text_is(p, len, "serializable"))
				c->v.flags |= SF_SERIALIZABLE;
			else if (text_is(p, len, "repeatable read") ||
				 text_is(p, len, "repeatable"))
				c->v.flags |= SF_REPEATABLE_READ;
		}
	}
}

/*
 * The parameter name after SET [SESSION | LOCAL] or RESET: TIME ZONE,
 * SESSION AUTHORIZATION, ROLE, XML OPTION or a (dotted) name. Sets
 * guc_off/guc_len and returns the last name token in *last (kind TK_EOF when
 * it is not a plain single name).
 */
static bool guc_name(Ctx *c, SqlTok t, SqlTok *last)
{
	uint32_t end = t.off + t.len;
	bool dotted = false;

	*last = tok_eof;
	if (t.kind == TK_WORD &&
	    (t.kw == KW_SESSION || t.kw == KW_TIME || sqllex_tok_is(&c->lx, &t, "xml"))) {
		const SqlTok *n = cx_peek(c);

		if ((t.kw == KW_SESSION && n->kind == TK_WORD && n->kw == KW_AUTHORIZATION) ||
		    (t.kw == KW_TIME && n->kind == TK_WORD && n->kw == KW_ZONE) ||
		    (t.kw == KW_NONE && sqllex_tok_is(&c->lx, n, "option"))) {
			SqlTok t2 = cx_next(c);

			end = t2.off + t2.len;
			c->v.guc_off = t.off;
			c->v.guc_len = end - t.off;
			return true;
		}
	}
	if (t.kind != TK_WORD && t.kind != TK_QIDENT)
		return false;
	while (cx_peek(c)->kind == TK_DOT) {
		SqlTok d = cx_next(c), n = cx_next(c);

		(void)d;
		if (n.kind != TK_WORD && n.kind != TK_QIDENT)
			return false;
		end = n.off + n.len;
		dotted = true;
	}
	c->v.guc_off = t.off;
	c->v.guc_len = end - t.off;
	if (!dotted)
		*last = t;
	return true;
}

static void stmt_set(Ctx *c)
{
	SqlTok t = cx_next(c), name;
	uint32_t local = 0;

	if (t.kind == TK_WORD && t.kw == KW_SESSION) {
		const SqlTok *n = cx_peek(c);

		if (n->kind == TK_WORD && n->kw == KW_CHARACTERISTICS) {
			set_verdict(c, SC_SET_TXN, CR_TXN_CONTROL);
			c->v.flags |= txn_modes(c) | SF_SESSION_CHARS;
			return;
		}
		if (!(n->kind == TK_WORD && n->kw == KW_AUTHORIZATION))
			t = cx_next(c); /* SET SESSION name: the default scope */
	} else if (t.kind == TK_WORD && t.kw == KW_LOCAL) {
		local = SF_SET_LOCAL;
		t = cx_next(c);
	}
	if (t.kind == TK_WORD && t.kw == KW_TRANSACTION) {
		set_verdict(c, SC_SET_TXN, CR_TXN_CONTROL);
		c->v.flags |= txn_modes(c) | local;
		return;
	}
	if (t.kind == TK_WORD && t.kw == KW_CONSTRAINTS) {
		stmt_simple(c, SC_SET_TXN, CR_TXN_CONTROL);
		return;
	}
	set_verdict(c, SC_SESSION, CR_SET);
	c->v.flags |= local;
	if (!guc_name(c, t, &name)) {
		c->v.guc_off = c->v.guc_len = 0;
		stmt_simple(c, SC_WRITE, CR_UNKNOWN);
		return;
	}
	if (name.kind != TK_EOF)
		set_guc_flags(c, &name);
	skip_rest(c);
}

static void stmt_reset(Ctx *c)
{
	SqlTok t = cx_next(c), name;

	set_verdict(c, SC_SESSION, CR_SET);
	if (!(t.kind == TK_WORD && t.kw == KW_ALL) && !guc_name(c, t, &name)) {
		stmt_simple(c, SC_WRITE, CR_UNKNOWN);
		return;
	}
	skip_rest(c);
}

static void stmt_show(Ctx *c)
{
	SqlTok t = cx_next(c);

	set_verdict(c, SC_READ, CR_SHOW);
	/* drivers ask these to find the primary: the replica would say "on" */
	if (name_is(c, &t, "transaction_read_only") || name_is(c, &t, "in_hot_standby")) {
		set_verdict(c, SC_WRITE, CR_MASTER_STATS);
		c->v.func_off = t.off;
		c->v.func_len = t.len;
	}
	skip_rest(c);
}

/*
 * What EXPLAIN without ANALYZE may plan on a replica: queries and DML are
 * planned, never run (checked on a hot standby). Anything else seen in the
 * inner statement (EXECUTE, pg_temp, CREATE, too deep to follow...) keeps it
 * on the master.
 */
#define PLAN_ONLY_HARMLESS                                                                         \
	((1ull << CR_SELECT) | (1ull << CR_VALUES) | (1ull << CR_TABLE) | (1ull << CR_DECLARE) |   \
	 (1ull << CR_DML) | (1ull << CR_LOCKING_READ) | (1ull << CR_MODIFYING_CTE) |               \
	 (1ull << CR_WRITE_FUNCTION) | (1ull << CR_UNKNOWN_FUNCTION) | (1ull << CR_MASTER_STATS) | \
	 (1ull << CR_ADVISORY_LOCK) | (1ull << CR_SESSION_FUNCTION))

static void stmt_explain(Ctx *c)
{
	bool analyze = false;
	SqlTok t = cx_next(c);
	Verdict in;

	if (t.kind == TK_LPAREN) {
		bool want_name = true, in_analyze = false;

		for (;;) {
			t = cx_next(c);
			if (c->ended) {
				stmt_simple(c, SC_WRITE, CR_UNKNOWN);
				return;
			}
			if (t.kind == TK_RPAREN)
				break;
			if (t.kind == TK_COMMA) {
				want_name = true;
				in_analyze = false;
			} else if (want_name) {
				want_name = false;
				in_analyze =
				    t.kind == TK_WORD && (t.kw == KW_ANALYZE || t.kw == KW_ANALYSE);
				analyze |= in_analyze;
			} else if (in_analyze) {
				if (value_bool(c, &t) == 0)
					analyze = false;
				in_analyze = false;
			}
		}
		t = cx_next(c);
	} else {
		while (t.kind == TK_WORD &&
		       (t.kw == KW_ANALYZE || t.kw == KW_ANALYSE || t.kw == KW_VERBOSE)) {
			analyze |= t.kw != KW_VERBOSE;
			t = cx_next(c);
		}
	}
	if (c->ended || c->nest >= MAX_NEST) {
		stmt_simple(c, SC_WRITE, c->ended ? CR_UNKNOWN : CR_TOO_COMPLEX);
		return;
	}
	c->nest++;
	c->seen = 0;
	classify_body(c, t);
	c->nest--;
	in = c->v;
	if (in.cls == SC_READ) {
		set_verdict(c, SC_READ, CR_EXPLAIN);
	} else if (in.cls != SC_WRITE && in.cls != SC_PIN) {
		set_verdict(c, SC_WRITE, CR_UNKNOWN); /* EXPLAIN BEGIN...: an error */
	} else if (analyze) {
		if (in.cls != SC_PIN)
			c->v.reason = CR_EXPLAIN_ANALYZE; /* runs it: keeps func_off */
	} else if ((c->seen & ~PLAN_ONLY_HARMLESS) == 0) {
		set_verdict(c, SC_READ, CR_EXPLAIN);
	}
	c->v.guc_off = c->v.guc_len = 0;
	c->v.flags = 0;
}

static void stmt_copy(Ctx *c)
{
	SqlTok t = cx_next(c);

	if (t.kind == TK_WORD && t.kw == KW_BINARY)
		t = cx_next(c);
	set_verdict(c, SC_READ, CR_COPY_TO);
	if (t.kind == TK_LPAREN) {
		if (c->nest >= MAX_NEST) {
			stmt_simple(c, SC_WRITE, CR_TOO_COMPLEX);
			return;
		}
		c->nest++;
		walk(c, NULL, true, WM_QUERY);
		c->nest--;
		t = cx_next(c);
		if (!(t.kind == TK_WORD && t.kw == KW_TO)) {
			note(c, SC_WRITE, CR_UNKNOWN, 0, 0);
		} else {
			t = cx_next(c);
			if (!(t.kind == TK_WORD && t.kw == KW_STDOUT))
				note(c, SC_WRITE, CR_COPY_FILE, 0, 0);
		}
		skip_rest(c);
		return;
	}
	/* COPY [schema.]table [(columns)] FROM | TO */
	while (is_name(&t)) {
		const SqlTok *n = cx_peek(c);

		check_ident(c, &t, n, false);
		if (n->kind != TK_DOT)
			break;
		(void)cx_next(c);
		t = cx_next(c);
	}
	t = cx_next(c);
	if (t.kind == TK_LPAREN) {
		uint32_t depth = 1;

		while (depth > 0 && !c->ended) {
			t = cx_next(c);
			depth += t.kind == TK_LPAREN;
			depth -= t.kind == TK_RPAREN;
		}
		t = cx_next(c);
	}
	if (t.kind == TK_WORD && t.kw == KW_FROM) {
		set_verdict(c, SC_WRITE, CR_COPY_FROM);
	} else if (t.kind == TK_WORD && t.kw == KW_TO) {
		t = cx_next(c);
		if (!(t.kind == TK_WORD && t.kw == KW_STDOUT))
			note(c, SC_WRITE, CR_COPY_FILE, 0, 0);
	} else {
		note(c, SC_WRITE, CR_UNKNOWN, 0, 0);
	}
	skip_rest(c);
}

/* DECLARE name [BINARY] [ASENSITIVE | INSENSITIVE] [[NO] SCROLL] CURSOR [WITH[OUT] HOLD] FOR query
 */
static void stmt_declare(Ctx *c)
{
	SqlTok t = cx_next(c);
	bool hold = false;

	if (!is_name(&t))
		goto unknown;
	for (;;) {
		t = cx_next(c);
		if (t.kind != TK_WORD)
			goto unknown;
		if (t.kw == KW_CURSOR)
			break;
		if (t.kw != KW_BINARY && t.kw != KW_NO && !sqllex_tok_is(&c->lx, &t, "scroll") &&
		    !sqllex_tok_is(&c->lx, &t, "insensitive") &&
		    !sqllex_tok_is(&c->lx, &t, "asensitive"))
			goto unknown;
	}
	t = cx_next(c);
	if (t.kind == TK_WORD && (t.kw == KW_WITH || t.kw == KW_WITHOUT)) {
		SqlTok h = cx_next(c);

		if (!(h.kind == TK_WORD && h.kw == KW_HOLD))
			goto unknown;
		hold = t.kw == KW_WITH;
		t = cx_next(c);
	}
	if (!(t.kind == TK_WORD && t.kw == KW_FOR))
		goto unknown;
	if (hold) {
		stmt_simple(c, SC_PIN, CR_HOLD_CURSOR);
		return;
	}
	t = cx_next(c);
	if (!is_query_start(&t))
		goto unknown;
	stmt_query(c, &t, CR_DECLARE);
	return;
unknown:
	stmt_simple(c, SC_WRITE, CR_UNKNOWN);
}

/* CREATE [OR REPLACE] [GLOBAL | LOCAL] [TEMP | TEMPORARY] [UNLOGGED] ... */
static void stmt_create(Ctx *c)
{
	bool temp = false;

	for (;;) {
		const SqlTok *n = cx_peek(c);

		if (n->kind != TK_WORD)
			break;
		if (n->kw == KW_TEMP || n->kw == KW_TEMPORARY)
			temp = true;
		else if (n->kw != KW_OR && n->kw != KW_REPLACE && n->kw != KW_GLOBAL &&
			 n->kw != KW_LOCAL && n->kw != KW_UNLOGGED)
			break;
		(void)cx_next(c);
	}
	if (temp)
		set_verdict(c, SC_PIN, CR_TEMP);
	else
		set_verdict(c, SC_WRITE, CR_DDL);
	walk(c, NULL, false, WM_CREATE);
}

/* One statement from its first token (consumed) to its end. */
static void classify_body(Ctx *c, SqlTok t)
{
	if (t.kind == TK_LPAREN) {
		stmt_query(c, &t, CR_SELECT);
		return;
	}
	if (t.kind != TK_WORD) {
		stmt_simple(c, SC_WRITE, CR_UNKNOWN);
		return;
	}
	switch ((Kw)t.kw) {
	case KW_SELECT:
	case KW_WITH:
		stmt_query(c, &t, CR_SELECT);
		return;
	case KW_VALUES:
		stmt_query(c, &t, CR_VALUES);
		return;
	case KW_TABLE:
		stmt_query(c, &t, CR_TABLE);
		return;
	case KW_INSERT:
	case KW_UPDATE:
	case KW_DELETE:
	case KW_MERGE:
		set_verdict(c, SC_WRITE, CR_DML);
		walk(c, &t, false, WM_DML);
		return;
	case KW_CALL:
		set_verdict(c, SC_WRITE, CR_CALL);
		walk(c, &t, false, WM_DML);
		return;
	case KW_SHOW:
		stmt_show(c);
		return;
	case KW_EXPLAIN:
		stmt_explain(c);
		return;
	case KW_COPY:
		stmt_copy(c);
		return;
	case KW_SET:
		stmt_set(c);
		return;
	case KW_RESET:
		stmt_reset(c);
		return;
	case KW_DISCARD:
		stmt_simple(c, SC_SESSION, CR_DISCARD);
		return;
	case KW_BEGIN:
		set_verdict(c, SC_BEGIN, CR_TXN_CONTROL);
		c->v.flags |= txn_modes(c);
		return;
	case KW_START: {
		const SqlTok *n = cx_peek(c);

		if (n->kind == TK_WORD && n->kw == KW_TRANSACTION) {
			set_verdict(c, SC_BEGIN, CR_TXN_CONTROL);
			c->v.flags |= txn_modes(c);
		} else {
			stmt_simple(c, SC_WRITE, CR_UNKNOWN);
		}
		return;
	}
	case KW_COMMIT:
	case KW_END:
	case KW_ROLLBACK:
	case KW_ABORT:
		stmt_end(c, (Kw)t.kw);
		return;
	case KW_SAVEPOINT:
	case KW_RELEASE:
		stmt_simple(c, SC_TXN, CR_TXN_CONTROL);
		return;
	case KW_PREPARE: {
		const SqlTok *n = cx_peek(c);

		if (n->kind == TK_WORD && n->kw == KW_TRANSACTION)
			stmt_simple(c, SC_WRITE, CR_TWO_PHASE);
		else
			stmt_simple(c, SC_PIN, CR_PREPARE);
		return;
	}
	case KW_DEALLOCATE:
		stmt_simple(c, SC_PIN, CR_PREPARE);
		return;
	case KW_EXECUTE:
		stmt_simple(c, SC_WRITE, CR_EXECUTE);
		return;
	case KW_DECLARE:
		stmt_declare(c);
		return;
	case KW_FETCH:
	case KW_MOVE:
	case KW_CLOSE:
		stmt_simple(c, SC_TXN, CR_FETCH);
		return;
	case KW_LISTEN:
	case KW_UNLISTEN:
		stmt_simple(c, SC_PIN, CR_LISTEN);
		return;
	case KW_NOTIFY:
		stmt_simple(c, SC_WRITE, CR_NOTIFY);
		return;
	case KW_LOAD:
		stmt_simple(c, SC_PIN, CR_LOAD);
		return;
	case KW_DO:
		stmt_simple(c, SC_WRITE, CR_DO);
		return;
	case KW_LOCK:
		stmt_simple(c, SC_WRITE, CR_LOCK);
		return;
	case KW_VACUUM:
	case KW_ANALYZE:
	case KW_ANALYSE:
	case KW_CLUSTER:
	case KW_REINDEX:
	case KW_REFRESH:
	case KW_CHECKPOINT:
		stmt_simple(c, SC_WRITE, CR_MAINTENANCE);
		return;
	case KW_GRANT:
	case KW_REVOKE:
		stmt_simple(c, SC_WRITE, CR_GRANT);
		return;
	case KW_ALTER: {
		const SqlTok *n = cx_peek(c);

		stmt_simple(c, SC_WRITE,
			    n->kind == TK_WORD && n->kw == KW_DEFAULT ? CR_GRANT : CR_DDL);
		return;
	}
	case KW_CREATE:
		stmt_create(c);
		return;
	case KW_DROP:
	case KW_TRUNCATE:
	case KW_COMMENT:
	case KW_SECURITY:
	case KW_IMPORT:
	case KW_REASSIGN:
		stmt_simple(c, SC_WRITE, CR_DDL);
		return;
	default:
		stmt_simple(c, SC_WRITE, CR_UNKNOWN);
		return;
	}
}

/* ---- API ------------------------------------------------------------------ */

static uint32_t class_flags(StmtClass cls)
{
	if (cls == SC_PIN)
		return SF_HAS_PIN;
	if (cls == SC_SESSION || cls == SC_SET_TXN)
		return SF_HAS_SESSION;
	return 0;
}

/* The next non-empty statement; false at the end of the text. */
static bool stmt_next(Ctx *c, StmtInfo *out)
{
	SqlTok t;

	c->lx.hints = 0;
	for (;;) {
		c->ended = c->error = c->ambiguous = false;
		c->atomic = c->nest = 0;
		c->seen = 0;
		memset(c->t, 0, sizeof(c->t));
		memset(&c->v, 0, sizeof(c->v));
		t = cx_next(c);
		if (t.kind == TK_SEMI)
			continue;
		if (t.kind == TK_EOF)
			return false;
		break;
	}
	c->first_off = t.off;
	if (!c->error)
		classify_body(c, t);
	skip_rest(c); /* consumes the ';' even when it was peeked at: no token is pending */
	if (c->error) {
		set_verdict(c, SC_WRITE, CR_MALFORMED);
		c->v.flags = SF_TRUNCATED;
		c->v.guc_off = c->v.guc_len = 0;
	} else if (c->ambiguous && c->v.cls == SC_READ) {
		set_verdict(c, SC_WRITE, CR_AMBIGUOUS_STRING);
	}
	memset(out, 0, sizeof(*out));
	out->cls = c->v.cls;
	out->reason = c->v.reason;
	out->flags = c->v.flags | c->lx.hints | class_flags(c->v.cls) |
		     ((c->seen & (1ull << CR_MASTER_STATS)) ? SF_MASTER_STATS : 0);
	out->nstmts = 1;
	out->guc_off = c->v.guc_off;
	out->guc_len = c->v.guc_len;
	out->func_off = c->v.func_off;
	out->func_len = c->v.func_len;
	out->stmt_off = c->first_off;
	out->stmt_len = c->last_end - c->first_off;
	return true;
}

/* Texts whose offsets do not fit StmtInfo (PostgreSQL's messages are far smaller). */
static bool too_long(size_t len)
{
	return len >= UINT32_MAX;
}

static void set_too_long(StmtInfo *out)
{
	memset(out, 0, sizeof(*out));
	out->cls = SC_WRITE;
	out->reason = CR_TOO_COMPLEX;
	out->nstmts = 1;
}

void classify_sql(const char *sql, size_t len, const ClassifyOptions *opt, StmtInfo *out)
{
	Ctx c;
	StmtInfo s;
	uint32_t n = 0, flags = 0;
	bool decided = false, malformed = false;

	if (too_long(len)) {
		set_too_long(out);
		return;
	}
	memset(out, 0, sizeof(*out));
	out->cls = SC_EMPTY;
	out->reason = CR_EMPTY;
	cx_init(&c, sql, (uint32_t)len, 0, opt);
	while (stmt_next(&c, &s)) {
		n++;
		flags |= s.flags & (SF_HINT_MASTER | SF_HINT_REPLICA | SF_HAS_PIN | SF_HAS_SESSION |
				    SF_MASTER_STATS);
		if (s.reason == CR_MALFORMED) {
			*out = s;
			malformed = true;
		} else if (!malformed && (n == 1 || (!decided && s.cls != SC_READ))) {
			*out = s;
			decided = s.cls != SC_READ;
		}
	}
	if (n == 0)
		flags |= c.lx.hints & (SF_HINT_MASTER | SF_HINT_REPLICA);
	out->flags |= flags | (n > 1 ? SF_MULTI : 0);
	out->nstmts = n;
}

void classify_iter_init(ClassifyIter *it, const char *sql, size_t len)
{
	it->sql = sql;
	it->len = len;
	it->pos = 0;
}

bool classify_next(ClassifyIter *it, const ClassifyOptions *opt, StmtInfo *out)
{
	Ctx c;

	if (it->pos >= it->len)
		return false;
	if (too_long(it->len)) {
		set_too_long(out);
		it->pos = it->len;
		return true;
	}
	cx_init(&c, it->sql, (uint32_t)it->len, (uint32_t)it->pos, opt);
	if (!stmt_next(&c, out)) {
		it->pos = it->len;
		return false;
	}
	it->pos = c.lx.pos;
	return true;
}
