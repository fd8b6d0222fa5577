// Materialized views are recomputed, not maintained incrementally: at every checkpoint, before the
// epoch is sealed, each view whose inputs (tables, views, other materialized views, transitively)
// were written in the epoch runs its query over the epoch's data and the changed positions are
// written into the same epoch. So at every committed epoch a view is exactly its query over its
// inputs. The cost is a full evaluation per changed epoch (documented in docs/architecture.md).
//
// A view's rows live in TableData (table_data.h) under the view's id, keyed by their position in
// the query's result; the query runs over the system catalogs' QueryContext (system_catalogs.h).
// This is where the two meet, so that neither includes the other.
#pragma once

#include "common/status.h"
#include "meta/catalog_manager.h"

namespace rwmeta::frontend {

class TableData;

// Computes `mv`'s rows and writes the difference to what it holds into the open epoch.
// REQUIRES: the caller holds a DmlGuard or runs inside the pre-commit hook.
Status RefreshMaterializedView(TableData& data, meta::CatalogManager& catalog,
                               const meta::TableInfo& mv);

// Refreshes every materialized view whose inputs changed in the open epoch. A view that fails is
// logged and keeps its last contents; the others are still refreshed and the first error is
// returned. REQUIRES: as RefreshMaterializedView.
Status RefreshChangedViews(TableData& data, meta::CatalogManager& catalog);

// Makes RefreshChangedViews `data`'s pre-commit work (TableData::SetPreCommitWork), so that every
// checkpoint of its state store refreshes the views. Thread-safe. REQUIRES: `catalog` outlives
// `data`.
void InstallMaterializedViewRefresh(TableData& data, meta::CatalogManager& catalog);

}  // namespace rwmeta::frontend
